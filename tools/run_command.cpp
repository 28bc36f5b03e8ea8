// `vibesim run`: one experiment, every policy, tables on stdout, files in a run directory.

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include "io/config_error.h"
#include "io/config_object.h"
#include "io/run_directory.h"
#include "outputs/run_writer.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

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
  std::string requests_path, routing_path, baseline;
  int seeds = 1;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.add_options()("help,h", "show this help")(
      "out,o", po::value(&out_dir),
      "run directory to write (default: runs/<experiment>-N, a new one)")(
      "set", po::value(&overrides)->composing(),
      "override a key of the experiment, e.g. --set workload.iterations=10 (repeatable; value is "
      "JSON or a bare string)")("quiet,q", "print only the run directory")(
      "requests", po::value(&requests_path),
      "serving experiments: replay this request trace instead (.csv Azure format, .jsonl)")(
      "frontier", "serving experiments: also find the max request rate per GPU meeting the SLOs")(
      "routing", po::value(&routing_path),
      "drive routing from this trace instead: a per-token CSV (layer, e1..ek) or per-step counts "
      "(step,layer,expert,count); sets workload.routing, which --set can refine (e.g. "
      "workload.routing.layer_mapping=cycle)")(
      "seeds", po::value(&seeds),
      "compare the policies over N seeds (seed, seed+1, ...; each draws its own GPUs, routing "
      "and requests): each seed's run in seed-<n>/, means and 95 % intervals in summary.json "
      "(sets comparison.seeds)")(
      "baseline", po::value(&baseline),
      "the policy ratios are taken against (default: eplb when it runs, else the first)")(
      "jobs,j", po::value(&jobs),
      "threads for the seeds (default: the machine's cores; the files are the same for any "
      "number)");
  const auto vm = parse_command_line(context, args, options, "experiment", &experiment_path);
  if (!vm) {
    fmt::print(context.out, "With no EXPERIMENT, runs the shipped quickstart ({}).\n",
               (context.locations.config_dir / "experiments" / "quickstart.json").string());
    return 0;
  }
  if (experiment_path.empty())
    experiment_path = (context.locations.config_dir / "experiments" / "quickstart.json").string();
  const bool quiet = vm->count("quiet") > 0;
  if (vm->count("seeds")) overrides.push_back(fmt::format("comparison.seeds={}", seeds));
  if (vm->count("baseline"))
    overrides.push_back("comparison.baseline=" + nlohmann::json(baseline).dump());
  if (jobs < 1 || jobs > 1024) throw InputError(fmt::format("--jobs: must be in [1, 1024], got {}", jobs));

  // --routing replaces workload.routing before any --set, which may refine it.
  if (!routing_path.empty()) {
    const auto path = std::filesystem::absolute(routing_path).lexically_normal();
    const auto kind = routing_source_of_file(path);
    overrides.insert(overrides.begin(),
                     "workload.routing=" +
                         nlohmann::json{{"source", name_of(kRoutingSources, kind)},
                                        {"path", path.string()}}
                             .dump());
  }
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
  RunOptions run;
  run.frontier = frontier;
  run.jobs = jobs;
  run.checkpoint = [&context] { context.checkpoint(); };
  run.tables = quiet ? nullptr : &context.out;
  run.progress = quiet ? nullptr : &context.out;
  write_run(x, context.registry, run_dir.staging(), run);
  run_dir.commit();
  fmt::print(context.out, "{}run directory: {}\n", quiet ? "" : "\n", run_dir.target().string());
  return 0;
}

}  // namespace vibesim
