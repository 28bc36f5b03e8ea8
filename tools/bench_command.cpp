// `vibesim bench`: named speed figures on this machine, one core.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "base/derived_seed.h"
#include "base/parallel_for.h"
#include "base/random_engine.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "models/gpu_sku.h"
#include "models/topology.h"
#include "policies/policy_registry.h"
#include "sim/event_engine.h"
#include "sim/moe_layer_step.h"
#include "sim/serving_loop.h"
#include "tools/cli.h"
#include "traces/count_trace_routing.h"
#include "traces/synthetic_routing.h"
#include "traces/token_trace_routing.h"
#include "traces/trace_format.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

struct Figure {
  std::string name;
  double value;
  std::string unit;
  std::string what;
};

// Calls `batch` (which does `per_call` units of work) for `kWindows` windows
// of at least `min_seconds / kWindows` each; returns the median window's
// units per second. A short burst of other work on a shared machine slows
// one or two windows, which the median leaves out where one mean would carry
// them; longer spells slow every window (docs/performance.md).
double rate(double min_seconds, double per_call, const std::function<void()>& batch) {
  using clock = std::chrono::steady_clock;
  constexpr int kWindows = 5;
  std::array<double, kWindows> rates{};
  for (auto& window_rate : rates) {
    const auto start = clock::now();
    double units = 0, elapsed = 0;
    do {
      batch();
      units += per_call;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < min_seconds / kWindows);
    window_rate = units / elapsed;
  }
  std::nth_element(rates.begin(), rates.begin() + kWindows / 2, rates.end());
  return rates[kWindows / 2];
}

// A 32-step count trace of DeepSeek-V3's shape drawn once from a Zipf workload.
std::unique_ptr<RoutingSource> count_trace_routing(const MoeModel& model, std::int64_t tokens) {
  const auto layers = static_cast<int>(model.num_moe_layers());
  const auto experts = static_cast<int>(model.routed_experts);
  SyntheticRouting synthetic(layers, experts, static_cast<int>(model.top_k), SyntheticRoutingSpec{},
                             1, 2);
  CountTrace trace;
  trace.num_experts = experts;
  trace.steps = 32;
  for (int l = 0; l < layers; ++l) trace.layer_ids.push_back(l);
  for (std::size_t step = 0; step < trace.steps; ++step)
    for (int l = 0; l < layers; ++l) {
      const auto c = synthetic.next_counts({l, tokens});
      trace.counts.insert(trace.counts.end(), c.begin(), c.end());
    }
  return std::make_unique<CountTraceRouting>(std::move(trace), "bench", layers, experts,
                                             static_cast<int>(model.top_k));
}

// A per-token trace of `tokens` tokens per layer, each routed to top_k
// distinct experts drawn uniformly, written as a binary trace to a scratch
// file (removed by the caller).
std::filesystem::path write_binary_token_trace(const MoeModel& model, std::size_t tokens) {
  TokenTrace trace;
  trace.top_k = static_cast<int>(model.top_k);
  trace.num_experts = static_cast<int>(model.routed_experts);
  RandomEngine rng(1);
  std::uniform_int_distribution<std::int32_t> expert(0, trace.num_experts - 1);
  for (std::int64_t l = 0; l < model.num_moe_layers(); ++l) {
    trace.layer_ids.push_back(l);
    auto& ids = trace.experts.emplace_back();
    for (std::size_t t = 0; t < tokens; ++t) {
      const auto first = ids.size();
      while (ids.size() - first < static_cast<std::size_t>(trace.top_k)) {
        const auto e = expert(rng);
        if (std::find(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end(), e) == ids.end())
          ids.push_back(e);
      }
    }
  }
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("vibesim-bench-{}.vbt", static_cast<long>(::getpid()));
  write_routing_trace(trace, path, TraceFormat::kBinary);
  return path;
}

// Routed token-assignments per second read (and checked) from a binary trace
// of DeepSeek-V3's MoE layers, 16,384 tokens each (7.6 M assignments, 15 MB).
double trace_read_assignments_per_s(const CliContext& context, double min_seconds) {
  const auto model = load_moe_model(context.locations.config_dir / "models" / "deepseek-v3.json");
  const auto path = write_binary_token_trace(model, 16384);
  const double per_read = 16384.0 * static_cast<double>(model.num_moe_layers() * model.top_k);
  std::size_t sink = 0;
  const double per_s =
      rate(min_seconds, per_read, [&] { sink += read_token_trace(path).experts.size(); });
  std::filesystem::remove(path);
  if (sink == 42) fmt::print("");
  return per_s;
}

// Layer steps per second for DeepSeek-V3's shape on `num_gpus` MI325X GPUs
// with static placement, 16,384 tokens a step, routing replayed from a count
// trace in memory or (`binary_trace`) the tokens of a binary trace.
double layer_steps_per_s(const CliContext& context, int num_gpus, double min_seconds,
                         bool binary_trace = false) {
  const auto model = load_moe_model(context.locations.config_dir / "models" / "deepseek-v3.json");
  const auto sku = load_gpu_sku(context.locations.config_dir / "gpus" / "mi325x.json");
  const auto layers = static_cast<int>(model.num_moe_layers());
  const auto experts = static_cast<int>(model.routed_experts);
  const std::int64_t tokens = 16384;
  std::unique_ptr<RoutingSource> routing_source;
  if (binary_trace) {
    const auto path = write_binary_token_trace(model, 4 * tokens);
    routing_source =
        std::make_unique<TokenTraceRouting>(path, layers, experts, static_cast<int>(model.top_k));
    std::filesystem::remove(path);
  } else {
    routing_source = count_trace_routing(model, tokens);
  }
  auto& routing = *routing_source;

  VariabilityProfile profile;
  profile.voltage_offset_v = {ScalarDistribution::Kind::kNormal, 0.0, 0.012, {}};
  profile.leakage_factor = {ScalarDistribution::Kind::kConstant, 1.0, 0.0, {}};
  profile.memory_factor = {ScalarDistribution::Kind::kConstant, 1.0, 0.0, {}};
  std::vector<GpuKernelModel> gpus;
  for (const auto& v : profile.draw(num_gpus, 7)) gpus.emplace_back(sku, v, model);
  const Topology topology(num_gpus, std::min(num_gpus, 8), sku.interconnect);
  PlacementContext placement_context;
  placement_context.num_experts = experts;
  placement_context.num_gpus = num_gpus;
  // More GPUs than experts: one slot per GPU, filled with EPLB's replicas.
  placement_context.max_slots_per_gpu = std::max(1, experts / num_gpus);
  placement_context.num_nodes = topology.num_nodes();
  placement_context.expert_loads.assign(
      static_cast<std::size_t>(layers),
      std::vector<double>(static_cast<std::size_t>(experts), 1.0));
  const auto placement =
      context.registry.make(num_gpus <= experts ? "static" : "eplb")->place(placement_context);
  MoeLayerStepper stepper(model, gpus, topology, placement, 0.005, 3);

  std::int64_t sink = 0;
  const double steps = rate(min_seconds, layers, [&] {
    for (int l = 0; l < layers; ++l)
      sink += stepper.step(l, routing.next_counts({l, tokens})).layer.ns();
  });
  if (sink == 42) fmt::print("");  // keeps the loop from being optimised away
  return steps;
}

// Milliseconds for `policy` to place the whole of DeepSeek-V3 (58 MoE layers,
// 256 experts, 8 groups) on 32 GPUs in 4 nodes, `slots` slots in all, from
// Zipf loads and 24-point latency curves with a +-3.5 % speed spread (the
// shape of profiled curves).
// What a placement benchmark times: a first placement of one batch's loads;
// refining its own placement after every layer's hot set moved 4 ranks (a
// drift recalibration, timed without the first placement); or a first
// placement from 16 recorded load windows (their means as the loads).
enum class PlacementBench { kFresh, kIncremental, kWindowed };

// Milliseconds for `policy` to place DeepSeek-V3 on 32 GPUs in 4 nodes with
// `slots` slots.
double placement_ms(const CliContext& context, const std::string& policy, int slots,
                    double min_seconds, PlacementBench mode = PlacementBench::kFresh) {
  const auto model = load_moe_model(context.locations.config_dir / "models" / "deepseek-v3.json");
  const int layers = static_cast<int>(model.num_moe_layers());
  const int experts = static_cast<int>(model.routed_experts);
  constexpr int kGpus = 32;
  SyntheticRouting routing(layers, experts, static_cast<int>(model.top_k), SyntheticRoutingSpec{},
                           1, 2);
  PlacementContext c;
  c.num_experts = experts;
  c.num_gpus = kGpus;
  c.num_nodes = 4;
  c.expert_groups = static_cast<int>(model.expert_groups);
  c.max_slots_per_gpu = slots / kGpus;
  for (int l = 0; l < layers; ++l) {
    const auto counts = routing.next_counts({l, 16384});
    c.expert_loads.emplace_back(counts.begin(), counts.end());
  }
  for (int g = 0; g < kGpus; ++g) {
    const double speed = 1.0 + 0.035 * std::sin(g * 1.7);  // tokens per ns
    std::vector<double> tokens{0}, latency{20'000};
    for (double n = 64; tokens.size() < 24; n *= 1.5) {
      tokens.push_back(n);
      latency.push_back(20'000 + n / speed);
    }
    c.gpu_latency.emplace_back(tokens, latency);
  }
  if (mode == PlacementBench::kWindowed) {
    auto windows = std::make_shared<std::vector<std::vector<std::vector<double>>>>(
        static_cast<std::size_t>(layers));
    for (int t = 0; t < 16; ++t)
      for (int l = 0; l < layers; ++l) {
        const auto counts = routing.next_counts({l, 16384});
        (*windows)[static_cast<std::size_t>(l)].emplace_back(counts.begin(), counts.end());
      }
    for (int l = 0; l < layers; ++l) {
      auto& mean = c.expert_loads[static_cast<std::size_t>(l)];
      std::fill(mean.begin(), mean.end(), 0.0);
      for (const auto& w : (*windows)[static_cast<std::size_t>(l)])
        for (std::size_t e = 0; e < mean.size(); ++e) mean[e] += w[e] / 16;
    }
    c.load_windows = std::move(windows);
  }
  const auto placement_policy = context.registry.make(policy);
  Placement in_force;
  if (mode == PlacementBench::kIncremental) {  // in force: the placement of these loads; then the
                                               // hot set drifts
    in_force = placement_policy->place(c);
    SyntheticRoutingSpec
        rotated;  // every layer's popularity order moved 4 ranks, as in rotation.json
    rotated.drift_at_batches = {0};
    rotated.drift_kind = DriftKind::kRotate;
    rotated.rotate_ranks = 4;
    SyntheticRouting drifted(layers, experts, static_cast<int>(model.top_k), rotated, 1, 3);
    for (int l = 0; l < layers; ++l) {
      const auto counts = drifted.next_counts({l, 16384});
      c.expert_loads[static_cast<std::size_t>(l)].assign(counts.begin(), counts.end());
    }
    c.current = &in_force;
  }
  std::int64_t sink = 0;
  const double per_second =
      rate(min_seconds, 1, [&] { sink += placement_policy->place(c).physical_to_logical[0][0]; });
  if (sink == -1) fmt::print("");
  return 1e3 / per_second;
}

// Seconds to draw `num_gpus` GPUs from MI325X's high-variability profile and
// build their kernel models (DVFS tables), the topology (8 per node) and the
// all-to-all model: the set-up of a run at that scale.
double cluster_build_s(const CliContext& context, int num_gpus, double min_seconds) {
  const auto model = load_moe_model(context.locations.config_dir / "models" / "deepseek-v3.json");
  const auto sku = load_gpu_sku(context.locations.config_dir / "gpus" / "mi325x.json");
  ConfigObject config(sku.profiles.at("high-variability"), "mi325x", "profiles.high-variability");
  const auto profile = parse_variability_profile(config, "high-variability");
  std::size_t sink = 0;
  const double per_s = rate(min_seconds, 1, [&] {
    std::vector<GpuKernelModel> gpus;
    for (const auto& v : profile.draw(num_gpus, 7)) gpus.emplace_back(sku, v, model);
    const Topology topology(num_gpus, 8, sku.interconnect);
    AllToAllModel all_to_all(topology);
    sink += gpus.size() + topology.num_links();
  });
  if (sink == 1) fmt::print("");
  return 1.0 / per_s;
}

// Seconds for one serving run: DeepSeek-V3 on 8 MI325X GPUs (the paper's
// deployment), 5,000 ShareGPT-like Poisson requests at 6 per second per GPU
// (the experiment's rate, near the paper's DSv3 ShareGPT frontier of 6.2-7.1),
// every layer of every iteration, one policy (eplb),
// set-up (drawing, calibration, profiling) included; routing pools drawn on
// `jobs` threads.
double serving_run_s(const CliContext& context, int jobs) {
  const auto x = load_experiment(
      context.locations.config_dir / "experiments" / "paper-dsv3-sharegpt.json",
      {"serving.requests.count=5000", "policies=[\"eplb\"]"}, context.locations, context.registry);
  const auto start = std::chrono::steady_clock::now();
  const auto requests = experiment_requests(x);
  const auto summary = run_serving(x, context.registry, requests, {}, jobs);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (summary.front().requests != 5000) throw std::logic_error("serving bench lost requests");
  return s;
}

// Peak resident memory (MiB) of a `vibesim run` child process serving
// `requests` generated requests: DeepSeek-V3 on 8 MI325X (paper-dsv3-sonnet),
// short requests (16 tokens in, 1 out) at 40 per second per GPU, one policy,
// requests.csv streamed to a temporary folder that is removed afterwards.
// A child, so the figure holds nothing the bench itself allocated.
double serving_peak_rss_mib(const CliContext& context, std::int64_t requests) {
  const auto out = std::filesystem::temp_directory_path() /
                   fmt::format("vibesim-bench-rss-{}", static_cast<long>(::getpid()));
  std::filesystem::remove_all(out);
  const auto experiment =
      (context.locations.config_dir / "experiments" / "paper-dsv3-sonnet.json").string();
  const std::vector<std::string> args = {
      "vibesim",
      "run",
      experiment,
      "--quiet",
      "--out",
      out.string(),
      "--max-output-mb",
      "100000",
      "--set",
      "policies=[\"static\"]",
      "--set",
      fmt::format("serving.requests.count={}", requests),
      "--set",
      "serving.requests.rate_per_gpu=40",
      "--set",
      R"(serving.requests.lengths={"kind":"fixed","input_tokens":16,"output_tokens":1})",
      "--set",
      "workload.calibration_batches=2"};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("bench: fork failed");
  if (child == 0) {  // the run's own messages would break the bench's table or JSON
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);
    ::execv("/proc/self/exe", argv.data());
    std::_Exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(child, &status, 0, &usage);
  std::filesystem::remove_all(out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("bench: the {}-request run failed", requests));
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Seconds for `optimal` to place 64 experts on 8 GPUs of unequal speed
// (linear curves), 8 slots each, over 8 layers: 4 near-uniform (counts
// uniform in 500-3000) and 4 Zipf-0.8. A layer not proven by the lower
// bound goes to CBC (up to 30 s), which the time would show.
double optimal_s_64x8(const CliContext& context) {
  constexpr int kExperts = 64, kGpus = 8;
  PlacementContext c;
  c.num_experts = kExperts;
  c.num_gpus = kGpus;
  c.max_slots_per_gpu = kExperts / kGpus;
  RandomEngine rng(1);
  std::uniform_int_distribution<int> near_uniform(500, 3000);
  for (int l = 0; l < 8; ++l) {
    std::vector<double> loads(kExperts);
    for (int e = 0; e < kExperts; ++e)
      loads[static_cast<std::size_t>(e)] =
          l < 4 ? near_uniform(rng) : std::round(20'000 / std::pow(e + 1, 0.8));
    if (l >= 4) std::shuffle(loads.begin(), loads.end(), rng);
    c.expert_loads.push_back(std::move(loads));
  }
  for (double speed : {1.0, 1.03, 0.97, 1.02, 0.965, 1.01, 0.99, 1.035})
    c.gpu_latency.push_back(LatencyCurve::proportional(speed));
  const auto optimal = context.registry.make("optimal");
  const auto start = std::chrono::steady_clock::now();
  (void)optimal->place(c);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double engine_events_per_s(double min_seconds) {
  return rate(min_seconds, 100'000, [] {
    EventEngine engine;
    std::int64_t fired = 0;
    std::function<void()> tick = [&] {
      if (++fired < 100'000) engine.schedule_after(SimDuration::from_ns(10), tick);
    };
    engine.schedule(SimTime{}, tick);
    engine.run();
  });
}

// Every figure `vibesim bench` measures, with its unit and what it measures.
struct Benchmark {
  const char* name;
  const char* unit;
  const char* what;
  std::function<double()> measure;
  bool long_running = false;  // measured only with --long
};

std::vector<Benchmark> benchmark_registry(const CliContext& context, double min_seconds) {
  return {
      {"layer_steps_per_s.8gpu_256e", "steps/s",
       "DeepSeek-V3 layer steps, 8 MI325X, static placement, count-trace routing",
       [=, &context] { return layer_steps_per_s(context, 8, min_seconds); }},
      {"layer_steps_per_s.64gpu_256e", "steps/s", "the same on 64 GPUs in 8 nodes",
       [=, &context] { return layer_steps_per_s(context, 64, min_seconds); }},
      {"layer_steps_per_s.8gpu_256e_binary_trace", "steps/s",
       "the 8-GPU steps with routing replayed token by token from a binary per-token trace",
       [=, &context] { return layer_steps_per_s(context, 8, min_seconds, true); }},
      {"trace_read_assignments_per_s.binary", "assign/s",
       "routed token-assignments read and checked from a binary per-token trace, DeepSeek-V3's "
       "58 layers x 16,384 tokens x top-8 (target >= 100 M)",
       [=, &context] { return trace_read_assignments_per_s(context, min_seconds); }},
      {"cluster_build_s.1024gpu", "s",
       "draw 1,024 MI325X GPUs (high-variability), build kernel models, 128-node topology and "
       "all-to-all routes",
       [=, &context] { return cluster_build_s(context, 1024, min_seconds); }},
      {"layer_steps_per_s.1024gpu_256e", "steps/s",
       "DeepSeek-V3 layer steps on 1,024 GPUs in 128 nodes, one EPLB slot per GPU",
       [=, &context] { return layer_steps_per_s(context, 1024, min_seconds); }},
      {"placement_ms.eplb_dsv3", "ms",
       "EPLB placing DeepSeek-V3 (58 layers x 256 experts) on 32 GPUs, 288 slots (target <= 1)",
       [=, &context] { return placement_ms(context, "eplb", 288, min_seconds); }},
      {"placement_ms.vibe_dsv3", "ms", "ViBE placing the same on 32 GPUs, 256 slots (target <= 1)",
       [=, &context] { return placement_ms(context, "vibe", 256, min_seconds); }},
      {"placement_ms.latency_lpt_dsv3", "ms",
       "latency_lpt placing the same, 288 slots (target <= 20)",
       [=, &context] { return placement_ms(context, "latency_lpt", 288, min_seconds); }},
      {"placement_ms.latency_lpt_incremental_dsv3", "ms",
       "latency_lpt re-placing the same from its placement of other loads (refinement; target <= "
       "5)",
       [=, &context] {
         return placement_ms(context, "latency_lpt", 288, min_seconds,
                             PlacementBench::kIncremental);
       }},
      {"placement_ms.vibe_incremental_dsv3", "ms",
       "ViBE refining its placement after the same drift (Algorithm 2)",
       [=, &context] {
         return placement_ms(context, "vibe", 256, min_seconds, PlacementBench::kIncremental);
       }},
      {"placement_ms.latency_lpt_shares_dsv3", "ms",
       "latency_lpt_shares: latency_lpt's layout plus token shares by max-flow, 288 slots",
       [=, &context] { return placement_ms(context, "latency_lpt_shares", 288, min_seconds); }},
      {"placement_ms.latency_lpt_counts_dsv3", "ms",
       "latency_lpt_counts: latency_lpt plus the replica-count search, 288 slots",
       [=, &context] { return placement_ms(context, "latency_lpt_counts", 288, min_seconds); }},
      {"placement_ms.flashlb_dsv3", "ms",
       "FlashLB placing the same from 16 recorded load windows, 288 slots",
       [=, &context] {
         return placement_ms(context, "flashlb", 288, min_seconds, PlacementBench::kWindowed);
       }},
      {"optimal_s.64x8", "s",
       "optimal proving 64 experts x 8 unequal GPUs within 0.1 %: 4 near-uniform and 4 Zipf-0.8 "
       "layers (target < 10; needs CBC)",
       [=, &context] { return optimal_s_64x8(context); }},
      {"serving_run_s", "s",
       "DeepSeek-V3 serving on 8 MI325X: 5,000 ShareGPT-like requests, all layers, one policy; "
       "routing pools drawn on the machine's cores, as vibesim run does (target <= 1)",
       [=, &context] { return serving_run_s(context, machine_cores()); }},
      {"serving_run_s.one_thread", "s", "the same on one thread (vibesim run --jobs 1)",
       [=, &context] { return serving_run_s(context, 1); }},
      {"serving_peak_rss_mib.100k_requests", "MiB",
       "peak memory of a vibesim run serving 100,000 short generated requests (DeepSeek-V3, 8 "
       "MI325X, one policy, requests.csv streamed)",
       [=, &context] { return serving_peak_rss_mib(context, 100'000); }},
      {"serving_peak_rss_mib.1m_requests", "MiB", "the same with 1,000,000 requests (~20 s)",
       [=, &context] { return serving_peak_rss_mib(context, 1'000'000); }},
      {"serving_peak_rss_mib.10m_requests", "MiB",
       "the same with 10,000,000 requests (~4 min; only with --long)",
       [=, &context] { return serving_peak_rss_mib(context, 10'000'000); }, true},
      {"engine_events_per_s", "events/s",
       "event engine: schedule + run of self-rescheduling events",
       [=] { return engine_events_per_s(min_seconds); }},
  };
}

}  // namespace

int bench_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("vibesim bench [options]");
  double min_seconds = 1.0;
  std::string only;
  options.add_options()("help,h", "show this help")("json",
                                                    "print one JSON object instead of a table")(
      "only", po::value(&only),
      "run only the figure of this name, or else those whose name contains it")(
      "min-seconds", po::value(&min_seconds)->default_value(1.0),
      "measure each figure for at least this long")(
      "long", "also measure the figures that take minutes (the 10-million-request run)");
  const auto vm = parse_command_line(context, args, options);
  if (!vm) return 0;
  require_option_in_range("min-seconds", min_seconds, 0, 3600);
  const auto benchmarks = benchmark_registry(context, min_seconds);
  // A figure's exact name selects it alone; other text, every name holding it.
  const bool exact = std::any_of(benchmarks.begin(), benchmarks.end(),
                                 [&](const Benchmark& b) { return b.name == only; });
  std::vector<Figure> figures;
  for (const auto& b : benchmarks)
    if ((exact ? b.name == only : std::string_view(b.name).find(only) != std::string_view::npos) &&
        (!b.long_running || vm->count("long")))
      figures.push_back({b.name, b.measure(), b.unit, b.what});
  if (figures.empty()) throw InputError(fmt::format("bench: no figure matches '{}'", only));
  if (vm->count("json")) {
    nlohmann::ordered_json out;
    for (const auto& f : figures) out[f.name] = f.value;
    context.out << out.dump(2) << "\n";
  } else {
    std::size_t name_width = 0;
    for (const auto& f : figures) name_width = std::max(name_width, f.name.size());
    for (const auto& f : figures)
      fmt::print(context.out, "{:<{}} {:>12.4g} {:<9} {}\n", f.name, name_width, f.value, f.unit,
                 f.what);
  }
  return 0;
}

}  // namespace vibesim
