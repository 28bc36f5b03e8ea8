// `vibesim run`: one experiment, every policy, tables on stdout, files in a run directory.

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include "base/parallel_for.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "io/run_directory.h"
#include "outputs/run_writer.h"
#include "sim/serving_loop.h"
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

// What `vibesim run` was asked, as parsed.
struct RunArguments {
  std::string experiment_path, out_dir, requests_path, routing_path, baseline, timeline_path;
  std::int64_t timeline_steps = 256;
  std::vector<std::string> overrides;  // --set, in order
  int seeds = 1;
  int jobs = machine_cores();
  double max_output_mb = 4096;
  bool quiet = false, frontier = false, seeds_given = false, baseline_given = false;
};

po::options_description run_options(RunArguments& a) {
  po::options_description options(
      "vibesim run [EXPERIMENT.json | NAME] [options] (NAME: a shipped experiment, e.g. drift)");
  options.add_options()("help,h", "show this help")(
      "out,o", po::value(&a.out_dir),
      "run directory to write (default: runs/<experiment>-N, a new one)")(
      "set", po::value(&a.overrides)->composing(),
      "override a key of the experiment, e.g. --set workload.iterations=10 (repeatable; value is "
      "JSON or a bare string)")("quiet,q", "print only the run directory")(
      "requests", po::value(&a.requests_path),
      "serving experiments: replay this request trace instead (.csv Azure format, .jsonl)")(
      "frontier", "serving experiments: also find the max request rate per GPU meeting the SLOs")(
      "routing", po::value(&a.routing_path),
      "drive routing from this trace instead, in any trace format (per-token: token_csv or "
      "binary; per-step counts: count_csv, long_csv, sglang_json or binary; see vibesim list); "
      "sets workload.routing, which --set can refine (e.g. workload.routing.layer_mapping=cycle, "
      "workload.routing.expert_mapping=pad)")(
      "seeds", po::value(&a.seeds),
      "compare the policies over N seeds (seed, seed+1, ...; each draws its own GPUs, routing "
      "and requests): each seed's run in seed-<n>/, means and 95 % intervals in summary.json "
      "(sets comparison.seeds)")(
      "baseline", po::value(&a.baseline),
      "the policy ratios are taken against (default: eplb when it runs, else the first)")(
      "timeline", po::value(&a.timeline_path),
      "also write a Chrome trace-event JSON file (opens in Perfetto): per-GPU dispatch, kernel, "
      "combine and barrier wait of each layer step, or serving iterations and requests; "
      "re-placements (the first seed's run)")(
      "timeline-steps", po::value(&a.timeline_steps)->default_value(256),
      "with --timeline: the first N layer steps (serving: iterations) of each policy")(
      "max-output-mb", po::value(&a.max_output_mb)->default_value(4096),
      "refuse, before it starts, a run whose layers.csv or requests.csv would exceed this many "
      "MB")("jobs,j", po::value(&a.jobs),
            "threads for the seeds, then for drawing synthetic routing's pools (default: the "
            "machine's cores; the files are the same for any number)");
  return options;
}

// The options that change the experiment, as overrides of its keys, so that
// config.resolved.json records them: --routing first (the --set options may
// refine it), then --set, --requests, --seeds and --baseline.
std::vector<std::string> experiment_overrides(const RunArguments& a) {
  std::vector<std::string> out;
  if (!a.routing_path.empty()) {
    const auto path = std::filesystem::absolute(a.routing_path).lexically_normal();
    const auto kind = routing_source_of_file(path);
    out.push_back(
        "workload.routing=" +
        nlohmann::json{{"source", name_of(kRoutingSources, kind)}, {"path", path.string()}}.dump());
  }
  out.insert(out.end(), a.overrides.begin(), a.overrides.end());
  if (!a.requests_path.empty())
    out.push_back(
        "serving.requests=" +
        nlohmann::json{
            {"source", "trace"},
            {"path", std::filesystem::absolute(a.requests_path).lexically_normal().string()}}
            .dump());
  if (a.seeds_given) out.push_back(fmt::format("comparison.seeds={}", a.seeds));
  if (a.baseline_given) out.push_back("comparison.baseline=" + nlohmann::json(a.baseline).dump());
  return out;
}

// Combinations of options that cannot work, refused before anything runs.
void check_run_arguments(const RunArguments& a) {
  require_option_in_range("jobs", a.jobs, 1, 1024);
  require_option_in_range("timeline-steps", static_cast<double>(a.timeline_steps), 1, 1e7);
  require_option_in_range("max-output-mb", a.max_output_mb, 0, 1e9);
  std::error_code ec;
  if (!a.timeline_path.empty() && std::filesystem::is_directory(a.timeline_path, ec))
    throw InputError(fmt::format("--timeline: {} is a directory", a.timeline_path));
  if ((a.frontier || !a.requests_path.empty()) &&
      !read_json_file(a.experiment_path).contains("serving"))
    throw InputError(
        fmt::format("{}: --requests and --frontier need a 'serving' section", a.experiment_path));
}

}  // namespace

int run_command(const CliContext& context, const std::vector<std::string>& args) {
  RunArguments a;
  const auto options = run_options(a);
  const auto vm = parse_command_line(context, args, options, "experiment", &a.experiment_path);
  const auto quickstart = context.locations.config_dir / "experiments" / "quickstart.json";
  if (!vm) {
    fmt::print(context.out, "With no EXPERIMENT, runs the shipped quickstart ({}).\n",
               quickstart.string());
    return 0;
  }
  if (a.experiment_path.empty()) a.experiment_path = quickstart.string();
  a.experiment_path = experiment_argument(context, a.experiment_path);
  a.quiet = vm->count("quiet") > 0;
  a.frontier = vm->count("frontier") > 0;
  a.seeds_given = vm->count("seeds") > 0;
  a.baseline_given = vm->count("baseline") > 0;
  check_run_arguments(a);
  const Experiment x = load_experiment(a.experiment_path, experiment_overrides(a),
                                       context.locations, context.registry);
  if (a.frontier) check_frontier_possible(x);  // before the main run, not after it
  if (const auto e = estimate_output(x); e.bytes > a.max_output_mb * 1e6)
    throw InputError(fmt::format(
        "{}: {} would hold about {:.0f} rows ({:.0f} MB), more than --max-output-mb {}; "
        "shorten the run (workload.iterations, requests, seeds, policies) or raise the limit",
        a.experiment_path, e.file, e.rows, e.bytes / 1e6, a.max_output_mb));
  if (!a.quiet) print_effective_configuration(context.out, x);

  RunDirectory run_dir(a.out_dir.empty() ? RunDirectory::next_free("runs", x.name)
                                         : std::filesystem::path(a.out_dir));
  RunOptions run;
  run.frontier = a.frontier;
  run.jobs = a.jobs;
  run.checkpoint = [&context] { context.checkpoint(); };
  run.tables = a.quiet ? nullptr : &context.out;
  run.progress = a.quiet ? nullptr : &context.out;
  std::optional<Timeline> timeline;
  if (!a.timeline_path.empty()) run.timeline = &timeline.emplace(a.timeline_steps);
  write_run(x, context.registry, run_dir.staging(), run);
  // All or nothing: the timeline is written before the run moves into place,
  // and taken back if that move fails.
  if (timeline) write_file_atomically(a.timeline_path, timeline->to_json().dump() + "\n");
  try {
    run_dir.commit();
  } catch (const InputError&) {
    if (timeline) remove_written_file(a.timeline_path);
    throw;
  }
  fmt::print(context.out, "{}run directory: {}\n", a.quiet ? "" : "\n", run_dir.target().string());
  return 0;
}

}  // namespace vibesim
