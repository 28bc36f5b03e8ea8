// `vibesim run`: one experiment, every policy, tables on stdout, files in a run directory.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "io/config_error.h"
#include "io/config_object.h"
#include "io/run_directory.h"
#include "models/gpu_latency_profile.h"
#include "sim/layer_study.h"
#include "sim/serving_loop.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

nlohmann::ordered_json summary_json(const Experiment& x, const LayerStudyResult& r) {
  nlohmann::ordered_json out;
  out["experiment"] = x.name;
  out["seed"] = x.seed;
  out["model"] = x.model.name;
  out["gpu"] = x.cluster.sku.name;
  out["profile"] = x.cluster.profile.name;
  out["num_gpus"] = x.cluster.num_gpus;
  out["recalibration"] = name_of(kRecalibrationTriggers, x.recalibration.controller);
  out["batch_tokens"] = x.workload.batch_tokens;
  out["gpus"] = nlohmann::ordered_json::array();
  for (std::size_t g = 0; g < r.gpus.size(); ++g) {
    const auto& s = r.gpus[g];
    out["gpus"].push_back({{"gpu", g},
                           {"voltage_offset_v", s.variation.voltage_offset_v},
                           {"leakage_factor", s.variation.leakage_factor},
                           {"memory_factor", s.variation.memory_factor},
                           {"compute_bound_clock_fraction", s.compute_bound_clock_fraction},
                           {"memory_bound_clock_fraction", s.memory_bound_clock_fraction},
                           {"balanced_kernel_time_rel", s.balanced_kernel_time_rel}});
  }
  out["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : r.policies) {
    out["policies"].push_back(
        {{"policy", p.policy},
         {"layer_steps", p.layer_steps},
         {"layer_latency_us",
          {{"p50", p.latency_p50_us},
           {"p90", p.latency_p90_us},
           {"p99", p.latency_p99_us},
           {"mean", p.latency_mean_us}}},
         {"barrier_idle_fraction", p.barrier_idle_fraction},
         {"max_over_mean_gpu_tokens", p.max_over_mean_tokens},
         {"predicted_latency_us", p.predicted_latency_us},
         {"predicted_gap_to_lower_bound", p.predicted_gap_to_bound},
         {"straggler_histogram", p.straggler_counts},
         {"recalibrations", p.recalibration.recalibrations},
         {"experts_moved", p.recalibration.experts_moved},
         {"experts_moved_per_layer_per_recalibration",
          p.recalibration.experts_moved_per_layer_per_recalibration(x.model.num_moe_layers())},
         {"migration_stall_ms", p.recalibration.migration_stall_ms},
         {"reprofiles", p.recalibration.reprofiles},
         {"layer_latency_after_first_gpu_event_us",
          {{"p50", p.after_event_p50_us}, {"p90", p.after_event_p90_us}}},
         {"simulated_time_ms", p.simulated_time.ms()}});
  }
  return out;
}

void print_tables(std::ostream& out, const Experiment& x, const LayerStudyResult& r) {
  fmt::print(out, "\n{:<14} {:>9} {:>9} {:>9} {:>7} {:>12} {:>9} {:>9}\n", "policy", "p50 us",
             "p90 us", "p99 us", "idle %", "max/mean tok", "pred us", "gap LB %");
  for (const auto& p : r.policies)
    fmt::print(out, "{:<14} {:>9.1f} {:>9.1f} {:>9.1f} {:>7.2f} {:>12.3f} {:>9.1f} {:>9.2f}\n",
               p.policy, p.latency_p50_us, p.latency_p90_us, p.latency_p99_us,
               100 * p.barrier_idle_fraction, p.max_over_mean_tokens, p.predicted_latency_us,
               100 * p.predicted_gap_to_bound);
  fmt::print(
      out,
      "(pred: max over GPUs of profiled f_g(n) + all-to-all time per token x n under the recorded "
      "loads, mean over layers; gap LB: its distance to the per-layer lower bound)\n");
  if (x.recalibration.controller != RecalibrationTrigger::kNever) {
    fmt::print(out, "\nrecalibration ({}):\n{:<14} {:>8} {:>14} {:>12} {:>12}\n",
               name_of(kRecalibrationTriggers, x.recalibration.controller), "policy", "re-placed", "experts moved", "moved/layer",
               "stall ms");
    for (const auto& p : r.policies)
      fmt::print(
          out, "{:<14} {:>8} {:>14} {:>12.2f} {:>12.3f}\n", p.policy,
          p.recalibration.recalibrations, p.recalibration.experts_moved,
          p.recalibration.experts_moved_per_layer_per_recalibration(x.model.num_moe_layers()),
          p.recalibration.migration_stall_ms);
  }
  if (!x.gpu_events.empty()) {
    fmt::print(out, "\nfrom the first GPU event (at {:.1f} ms) on:\n{:<14} {:>9} {:>9}\n",
               static_cast<double>(
                   std::min_element(x.gpu_events.begin(), x.gpu_events.end(),
                                    [](const auto& a, const auto& b) { return a.at < b.at; })
                       ->at.ns()) *
                   1e-6,
               "policy", "p50 us", "p90 us");
    for (const auto& p : r.policies)
      fmt::print(out, "{:<14} {:>9.1f} {:>9.1f}\n", p.policy, p.after_event_p50_us,
                 p.after_event_p90_us);
  }
  fmt::print(out, "\nstraggler histogram (layer steps each GPU finished last):\n{:<14}", "policy");
  for (std::size_t g = 0; g < r.gpus.size(); ++g) fmt::print(out, " {:>6}", fmt::format("g{}", g));
  fmt::print(out, "\n");
  for (const auto& p : r.policies) {
    fmt::print(out, "{:<14}", p.policy);
    for (auto c : p.straggler_counts) fmt::print(out, " {:>6}", c);
    fmt::print(out, "\n");
  }
}

nlohmann::ordered_json percentiles_json(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}};
}

// The serving form of a run: requests.csv, summary.json (per policy SLO
// metrics), and the frontier when asked for.
void serve(const CliContext& context, const Experiment& ex, RunDirectory& run_dir, bool quiet,
           bool frontier) {
  const auto requests = experiment_requests(ex);
  std::unique_ptr<std::FILE, FileCloser> csv(
      std::fopen(run_dir.staged("requests.csv").c_str(), "w"));
  if (!csv)
    throw InputError(fmt::format("{}: cannot write", run_dir.staged("requests.csv").string()));
  fmt::print(csv.get(),
             "policy,request,arrival_ms,input_tokens,output_tokens,first_token_ms,finish_ms,"
             "ttft_ms,tpot_ms,e2e_ms,slo_met\n");
  const auto summaries = run_serving(
      ex, context.registry, requests, [&](const std::string& policy, const RequestRecord& r) {
        fmt::print(csv.get(), "{},{},{:.3f},{},{},{:.3f},{:.3f},{:.3f},{:.4f},{:.3f},{}\n", policy,
                   r.request->id, (r.request->arrival - SimTime{}).ms(), r.request->input_tokens,
                   r.output_tokens, (r.first_token - SimTime{}).ms(), (r.finish - SimTime{}).ms(),
                   r.ttft_ms(), r.tpot_ms(), r.e2e_ms(), r.slo_met ? 1 : 0);
      });
  if (std::fflush(csv.get()) != 0) throw std::runtime_error("cannot write requests.csv");
  csv.reset();
  std::vector<FrontierPoint> points;
  if (frontier) points = slo_frontier(ex, context.registry);

  nlohmann::ordered_json out;
  out["experiment"] = ex.name;
  out["seed"] = ex.seed;
  out["model"] = ex.model.name;
  out["gpu"] = ex.cluster.sku.name;
  out["profile"] = ex.cluster.profile.name;
  out["num_gpus"] = ex.cluster.num_gpus;
  out["mode"] = name_of(kServingModes, ex.serving.mode);
  out["deployment"] = name_of(kDeployments, ex.serving.deployment);
  out["requests"] = requests.size();
  out["slo"] = {{"ttft_ms", ex.serving.slo_ttft_ms}, {"tpot_ms", ex.serving.slo_tpot_ms}};
  out["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : summaries) {
    const double busy =
        p.moe_kernel_s + p.all_to_all_s + p.attention_s + p.all_reduce_s + p.other_s;
    const auto share = [&](double v) { return busy > 0 ? v / busy : 0.0; };
    out["policies"].push_back({{"policy", p.policy},
                               {"requests", p.requests},
                               {"ttft_ms", percentiles_json(p.ttft_ms)},
                               {"tpot_ms", percentiles_json(p.tpot_ms)},
                               {"e2e_ms", percentiles_json(p.e2e_ms)},
                               {"slo_attainment", p.slo_attainment},
                               {"goodput_requests_per_s", p.goodput_rps},
                               {"throughput_output_tokens_per_s", p.throughput_tokens_per_s},
                               {"requests_per_s", p.requests_per_s},
                               {"duration_s", p.duration_s},
                               {"iterations", p.iterations},
                               {"moe_layer_steps", p.moe_layer_steps},
                               {"barrier_idle_fraction", p.barrier_idle_fraction},
                               {"recalibrations", p.recalibration.recalibrations},
                               {"experts_moved", p.recalibration.experts_moved},
                               {"migration_stall_ms", p.recalibration.migration_stall_ms},
                               {"reprofiles", p.recalibration.reprofiles},
                               {"time_share",
                                {{"moe_kernel", share(p.moe_kernel_s)},
                                 {"all_to_all", share(p.all_to_all_s)},
                                 {"attention", share(p.attention_s)},
                                 {"all_reduce", share(p.all_reduce_s)},
                                 {"other", share(p.other_s)}}}});
  }
  if (frontier) {
    out["frontier"] = {{"target", ex.serving.frontier_target},
                       {"points", nlohmann::ordered_json::array()}};
    for (const auto& f : points)
      out["frontier"]["points"].push_back({{"policy", f.policy},
                                           {"max_requests_per_s_per_gpu", f.max_rate_per_gpu},
                                           {"attainment_at_max", f.attainment_at_max},
                                           {"runs", f.runs}});
  }
  write_text(run_dir.staged("summary.json"), out.dump(2) + "\n");
  if (quiet) return;
  auto& o = context.out;
  fmt::print(o, "\n{:<12} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>7}\n", "policy",
             "requests", "TTFT p50", "TTFT p90", "TTFT p99", "TPOT p50", "TPOT p90", "SLO %",
             "tok/s", "idle %");
  for (const auto& p : summaries)
    fmt::print(
        o, "{:<12} {:>8} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.2f} {:>9.2f} {:>8.1f} {:>9.0f} {:>7.2f}\n",
        p.policy, p.requests, p.ttft_ms.p50, p.ttft_ms.p90, p.ttft_ms.p99, p.tpot_ms.p50,
        p.tpot_ms.p90, 100 * p.slo_attainment, p.throughput_tokens_per_s,
        100 * p.barrier_idle_fraction);
  fmt::print(o, "(times in ms; SLO: TTFT <= {} ms and TPOT <= {} ms)\n", ex.serving.slo_ttft_ms,
             ex.serving.slo_tpot_ms);
  fmt::print(o, "\ntime share:\n{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "policy", "MoE FFN",
             "all-to-all", "attention", "all-reduce", "other");
  for (const auto& p : summaries) {
    const double busy =
        p.moe_kernel_s + p.all_to_all_s + p.attention_s + p.all_reduce_s + p.other_s;
    fmt::print(o, "{:<12} {:>9.1f}% {:>9.1f}% {:>9.1f}% {:>9.1f}% {:>9.1f}%\n", p.policy,
               100 * p.moe_kernel_s / busy, 100 * p.all_to_all_s / busy, 100 * p.attention_s / busy,
               100 * p.all_reduce_s / busy, 100 * p.other_s / busy);
  }
  if (frontier) {
    fmt::print(o, "\nSLO frontier (max requests/s per GPU with >= {:.0f} % meeting both SLOs):\n",
               100 * ex.serving.frontier_target);
    for (const auto& f : points)
      fmt::print(o, "{:<12} {:>9.3f}   (attainment {:.3f}, {} runs)\n", f.policy,
                 f.max_rate_per_gpu, f.attainment_at_max, f.runs);
  }
}

}  // namespace

int run_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("vibesim run [EXPERIMENT.json] [options]");
  std::string experiment_path, out_dir;
  std::vector<std::string> overrides;
  std::string requests_path;
  options.add_options()("help,h", "show this help")(
      "out,o", po::value(&out_dir),
      "run directory to write (default: runs/<experiment>-N, a new one)")(
      "set", po::value(&overrides)->composing(),
      "override a key of the experiment, e.g. --set workload.iterations=10 (repeatable; value is "
      "JSON or a bare string)")("quiet,q", "print only the run directory")(
      "requests", po::value(&requests_path),
      "serving experiments: replay this request trace instead (.csv Azure format, .jsonl)")(
      "frontier", "serving experiments: also find the max request rate per GPU meeting the SLOs");
  const auto vm = parse_command_line(context, args, options, "experiment", &experiment_path);
  if (!vm) {
    fmt::print(context.out, "With no EXPERIMENT, runs the shipped quickstart ({}).\n",
               (context.locations.config_dir / "experiments" / "quickstart.json").string());
    return 0;
  }
  if (experiment_path.empty())
    experiment_path = (context.locations.config_dir / "experiments" / "quickstart.json").string();
  const bool quiet = vm->count("quiet") > 0;

  // --requests replaces serving.requests, so config.resolved.json records the trace replayed.
  const bool frontier = vm->count("frontier") > 0;
  if ((frontier || !requests_path.empty()) && !read_json_file(experiment_path).contains("serving"))
    throw InputError(
        fmt::format("{}: --requests and --frontier need a 'serving' section", experiment_path));
  if (!requests_path.empty())
    overrides.push_back(
        "serving.requests=" +
        nlohmann::json{{"source", "trace"},
                       {"path", std::filesystem::absolute(requests_path).lexically_normal()}}
            .dump());
  const Experiment x =
      load_experiment(experiment_path, overrides, context.locations, context.registry);
  if (!quiet) {
    fmt::print(context.out,
               "experiment {} (seed {}): {} ({} MoE layers, {} experts, top-{}, {}) on {} x {} "
               "(profile {}), "
               "{} tokens per batch, {} iterations, routing {}, policies: {}\n",
               x.name, x.seed, x.model.name, x.model.num_moe_layers(), x.model.routed_experts,
               x.model.top_k, to_string(x.model.dtype), x.cluster.num_gpus, x.cluster.sku.name, x.cluster.profile.name,
               x.workload.batch_tokens, x.workload.iterations,
               x.workload.routing.label(),
               fmt::join(x.policies, ", "));
  }

  RunDirectory run_dir(out_dir.empty() ? RunDirectory::next_free("runs", x.name)
                                       : std::filesystem::path(out_dir));
  if (x.serving_enabled) {
    serve(context, x, run_dir, quiet, frontier);
    write_text(run_dir.staged("config.resolved.json"), x.to_json().dump(2) + "\n");
    run_dir.commit();
    fmt::print(context.out, "{}run directory: {}\n", quiet ? "" : "\n", run_dir.target().string());
    return 0;
  }
  std::unique_ptr<std::FILE, FileCloser> layers(
      std::fopen(run_dir.staged("layers.csv").c_str(), "w"));
  if (!layers)
    throw InputError(fmt::format("{}: cannot write", run_dir.staged("layers.csv").string()));
  fmt::print(layers.get(),
             "policy,iteration,moe_layer,layer_us,straggler_gpu,max_gpu_tokens,mean_gpu_tokens,"
             "barrier_idle_fraction\n");
  const auto result = run_layer_study(x, context.registry, [&](const LayerRow& row) {
    double max_tokens = 0, sum_tokens = 0;
    for (const auto& g : row.step.gpus) {
      max_tokens = std::max(max_tokens, g.tokens);
      sum_tokens += g.tokens;
    }
    fmt::print(layers.get(), "{},{},{},{:.3f},{},{:.0f},{:.1f},{:.5f}\n", row.policy, row.iteration,
               row.moe_layer, row.step.layer.us(), row.step.straggler_gpu, max_tokens,
               sum_tokens / static_cast<double>(row.step.gpus.size()),
               row.step.barrier_idle_fraction());
  });
  if (std::fflush(layers.get()) != 0) throw std::runtime_error("cannot write layers.csv");
  layers.reset();
  write_text(run_dir.staged("summary.json"), summary_json(x, result).dump(2) + "\n");
  write_text(run_dir.staged("gpu_profile.json"),
             gpu_latency_profile_json(result.gpu_latency).dump(2) + "\n");
  write_text(run_dir.staged("expert_loads.json"),
             nlohmann::json{{"logical_count", result.expert_loads}}.dump() + "\n");
  write_text(run_dir.staged("config.resolved.json"), x.to_json().dump(2) + "\n");
  run_dir.commit();

  if (!quiet) print_tables(context.out, x, result);
  fmt::print(context.out, "{}run directory: {}\n", quiet ? "" : "\n", run_dir.target().string());
  return 0;
}

}  // namespace vibesim
