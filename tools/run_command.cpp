// `vibesim run`: one experiment, every policy, tables on stdout, files in a run directory.

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "io/run_directory.h"
#include "models/gpu_latency_profile.h"
#include "outputs/layer_study_outputs.h"
#include "outputs/serving_outputs.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

void write_text(const RunDirectory& run_dir, const std::string& file, const std::string& text) {
  write_file_atomically(run_dir.staged(file), text);
}

// The serving form of a run: requests.csv, summary.json, the frontier when asked for.
void serve(const CliContext& context, const Experiment& x, const RunDirectory& run_dir, bool quiet,
           bool frontier) {
  const auto requests = experiment_requests(x);
  RequestsCsv csv(run_dir.staged("requests.csv"));
  ServingResult result;
  result.requests = requests.size();
  result.policies = run_serving(x, context.registry, requests,
                                [&](const std::string& policy, const RequestRecord& r) {
                                  context.checkpoint();
                                  csv.write(policy, r);
                                });
  csv.close();
  if (frontier)
    result.frontier =
        slo_frontier(x, context.registry,
                     [&](const std::string&, const RequestRecord&) { context.checkpoint(); });
  write_text(run_dir, "summary.json", serving_summary_json(x, result).dump(2) + "\n");
  if (!quiet) print_serving_tables(context.out, x, result);
}

// The layer study: layers.csv, summary.json, the profiled curves and recorded loads.
void study_layers(const CliContext& context, const Experiment& x, const RunDirectory& run_dir,
                  bool quiet) {
  LayersCsv layers(run_dir.staged("layers.csv"));
  const auto result = run_layer_study(x, context.registry, [&](const LayerRow& row) {
    context.checkpoint();
    layers.write(row);
  });
  layers.close();
  write_text(run_dir, "summary.json", layer_study_summary_json(x, result).dump(2) + "\n");
  write_text(run_dir, "gpu_profile.json",
             gpu_latency_profile_json(result.gpu_latency).dump(2) + "\n");
  write_text(run_dir, "expert_loads.json",
             nlohmann::json{{"logical_count", result.expert_loads}}.dump() + "\n");
  if (!quiet) print_layer_study_tables(context.out, x, result);
}

// What runs, on one line, before anything runs.
void print_effective_configuration(std::ostream& out, const Experiment& x) {
  const auto what =
      x.serving_enabled
          ? fmt::format("serving {} requests ({}, {}, {})",
                        name_of(kRequestSources, x.serving.requests.source),
                        name_of(kServingModes, x.serving.mode),
                        name_of(kDeployments, x.serving.deployment),
                        fmt::format("{} tokens per iteration", x.serving.max_batched_tokens))
          : fmt::format("{} tokens per batch, {} iterations", x.workload.batch_tokens,
                        x.workload.iterations);
  fmt::print(out,
             "experiment {} (seed {}): {} ({} MoE layers, {} experts, top-{}, {}) on {} x {} "
             "(profile {}), {}, routing {}, policies: {}\n",
             x.name, x.seed, x.model.name, x.model.num_moe_layers(), x.model.routed_experts,
             x.model.top_k, to_string(x.model.dtype), x.cluster.num_gpus, x.cluster.sku.name,
             x.cluster.profile.name, what, x.workload.routing.label(), fmt::join(x.policies, ", "));
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
  if (frontier && x.serving.requests.source == RequestSource::kTrace)
    throw InputError(fmt::format(
        "{}: --frontier varies the request rate, so it needs generated requests "
        "(serving.requests.source poisson or gamma); a replayed trace has its own arrival times",
        experiment_path));
  if (!quiet) print_effective_configuration(context.out, x);

  RunDirectory run_dir(out_dir.empty() ? RunDirectory::next_free("runs", x.name)
                                       : std::filesystem::path(out_dir));
  if (x.serving_enabled) {
    serve(context, x, run_dir, quiet, frontier);
  } else {
    study_layers(context, x, run_dir, quiet);
  }
  write_text(run_dir, "config.resolved.json", x.to_json().dump(2) + "\n");
  run_dir.commit();
  fmt::print(context.out, "{}run directory: {}\n", quiet ? "" : "\n", run_dir.target().string());
  return 0;
}

}  // namespace vibesim
