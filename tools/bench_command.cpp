// `vibesim bench`: named speed figures on this machine, one core.
#include <chrono>
#include <functional>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "base/derived_seed.h"
#include "io/config_error.h"
#include "models/gpu_sku.h"
#include "models/topology.h"
#include "policies/policy_registry.h"
#include "sim/event_engine.h"
#include "sim/moe_layer_step.h"
#include "tools/cli.h"
#include "traces/count_trace_routing.h"
#include "traces/synthetic_routing.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

struct Figure {
  std::string name;
  double value;
  std::string unit;
  std::string what;
};

// Calls `batch` (which does `per_call` units of work) until `min_seconds` have
// passed; returns units per second.
double rate(double min_seconds, double per_call, const std::function<void()>& batch) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  double units = 0, elapsed = 0;
  do {
    batch();
    units += per_call;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < min_seconds);
  return units / elapsed;
}

// Layer steps per second for DeepSeek-V3's shape on `num_gpus` MI325X GPUs
// with static placement, routing replayed from a count trace held in memory.
double layer_steps_per_s(const CliContext& context, int num_gpus, double min_seconds) {
  const auto model = load_moe_model(context.locations.config_dir / "models" / "deepseek-v3.json");
  const auto sku = load_gpu_sku(context.locations.config_dir / "gpus" / "mi325x.json");
  const auto layers = static_cast<int>(model.num_moe_layers());
  const auto experts = static_cast<int>(model.routed_experts);
  const std::int64_t tokens = 16384;
  // A 32-step count trace drawn once from a Zipf workload.
  SyntheticRouting synthetic(layers, experts, static_cast<int>(model.top_k), SyntheticRoutingSpec{},
                             1, 2);
  std::vector<std::vector<std::vector<std::int32_t>>> trace(32);
  for (auto& step : trace)
    for (int l = 0; l < layers; ++l) {
      const auto c = synthetic.next_counts({l, tokens});
      step.emplace_back(c.begin(), c.end());
    }
  CountTraceRouting routing(std::move(trace), layers, static_cast<int>(model.top_k));

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
  placement_context.max_slots_per_gpu = experts / num_gpus;
  placement_context.expert_loads.assign(
      static_cast<std::size_t>(layers),
      std::vector<double>(static_cast<std::size_t>(experts), 1.0));
  const auto placement = context.registry.make("static")->place(placement_context);
  MoeLayerStepper stepper(model, gpus, topology, placement, 0.005, 3);

  std::int64_t sink = 0;
  const double steps = rate(min_seconds, layers, [&] {
    for (int l = 0; l < layers; ++l)
      sink += stepper.step(l, routing.next_counts({l, tokens})).layer.ns();
  });
  if (sink == 42) fmt::print("");  // keeps the loop from being optimised away
  return steps;
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

}  // namespace

int bench_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("vibesim bench [options]");
  double min_seconds = 1.0;
  std::string only;
  options.add_options()("help,h", "show this help")("json",
                                                    "print one JSON object instead of a table")(
      "only", po::value(&only), "run only the figures whose name contains this text")(
      "min-seconds", po::value(&min_seconds)->default_value(1.0),
      "measure each figure for at least this long");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    fmt::print(context.out, "{}", fmt::streamed(options));
    return 0;
  }
  struct Benchmark {
    const char* name;
    const char* unit;
    const char* what;
    std::function<double()> measure;
  };
  const std::vector<Benchmark> benchmarks = {
      {"layer_steps_per_s.8gpu_256e", "steps/s",
       "DeepSeek-V3 layer steps, 8 MI325X, static placement, count-trace routing",
       [&] { return layer_steps_per_s(context, 8, min_seconds); }},
      {"layer_steps_per_s.64gpu_256e", "steps/s", "the same on 64 GPUs in 8 nodes",
       [&] { return layer_steps_per_s(context, 64, min_seconds); }},
      {"engine_events_per_s", "events/s",
       "event engine: schedule + run of self-rescheduling events",
       [&] { return engine_events_per_s(min_seconds); }},
  };
  std::vector<Figure> figures;
  for (const auto& b : benchmarks)
    if (std::string_view(b.name).find(only) != std::string_view::npos)
      figures.push_back({b.name, b.measure(), b.unit, b.what});
  if (figures.empty()) throw InputError(fmt::format("bench: no figure matches '{}'", only));
  if (vm.count("json")) {
    nlohmann::ordered_json out;
    for (const auto& f : figures) out[f.name] = f.value;
    context.out << out.dump(2) << "\n";
  } else {
    for (const auto& f : figures)
      fmt::print(context.out, "{:<32} {:>14.0f} {:<9} {}\n", f.name, f.value, f.unit, f.what);
  }
  return 0;
}

}  // namespace vibesim
