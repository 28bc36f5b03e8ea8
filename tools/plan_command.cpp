// `vibesim plan`: how many GPUs a serving workload needs, or what rate a GPU count sustains.

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "base/parallel_for.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "studies/plan.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

void print_plan(std::ostream& out, const CapacityPlan& plan) {
  fmt::print(out, "{}: SLO frontier over {} seed(s), mean [95 % interval]\n", plan.experiment,
             plan.seeds);
  fmt::print(out, "{:>5}  {:<14} {:>24} {:>26}  {}\n", "gpus", "policy", "requests/s per GPU",
             "requests/s in all", "binding SLO");
  for (const auto& c : plan.tried)
    for (const auto& p : c.policies)
      fmt::print(out, "{:>5}  {:<14} {:>24} {:>26}  {}\n", c.gpus, p.policy,
                 fmt::format("{:.2f} [{:.2f}, {:.2f}]", p.rate_per_gpu.mean, p.rate_per_gpu.low,
                             p.rate_per_gpu.high),
                 fmt::format("{:.1f} [{:.1f}, {:.1f}]", p.rate.mean, p.rate.low, p.rate.high),
                 p.binding_slo);
  for (const auto& s : plan.skipped_gpus) fmt::print(out, "skipped {}\n", s);
  if (plan.target_rate_per_s <= 0) return;
  fmt::print(out, "\nto sustain {} requests/s:\n", plan.target_rate_per_s);
  const auto count = [](const std::optional<int>& g) {
    return g ? fmt::format("{} GPUs", *g) : std::string("more GPUs than tried");
  };
  for (const auto& a : plan.answers)
    fmt::print(out, "  {:<14} {} (on the mean), {} (with 95 % confidence)\n", a.policy,
               count(a.gpus), count(a.gpus_95));
  fmt::print(out,
             "(binding SLO: the one fewer requests met at the lowest rate that missed the "
             "target; \"none\": the search's upper rate was met)\n");
}

}  // namespace

int plan_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim plan EXPERIMENT (--rate R | --gpus G) [options]\n\n"
      "Capacity planning for a serving experiment (its model, GPUs, profile, workload and\n"
      "SLOs): with --gpus, the highest request rate each policy sustains at its SLO target\n"
      "on G GPUs; with --rate, the smallest GPU count (whole nodes, up to --max-gpus) that\n"
      "sustains R requests/s. Over the experiment's comparison.seeds (or --seeds), with 95 %\n"
      "intervals, naming the SLO that binds. docs/studies.md.\n\noptions");
  PlanRequest r;
  std::string file, out_path;
  int seeds = 0;
  r.jobs = machine_cores();
  options.add_options()("help,h", "show this help")("rate", po::value(&r.target_rate_per_s),
                                                    "target requests/s for the whole cluster")(
      "gpus", po::value(&r.gpus), "the GPU count to evaluate")(
      "max-gpus", po::value(&r.max_gpus)->default_value(64), "with --rate: the most GPUs tried")(
      "seeds", po::value(&seeds), "seeds (sets comparison.seeds)")(
      "set", po::value(&r.overrides)->composing(), "override a key of the experiment")(
      "jobs,j", po::value(&r.jobs), "threads for the seeds")("out,o", po::value(&out_path),
                                                             "also write the plan as JSON");
  const auto vm = parse_command_line(context, args, options, "experiment", &file);
  if (!vm) return 0;
  if (file.empty()) throw InputError("plan: give an EXPERIMENT");
  if ((r.target_rate_per_s > 0) == (r.gpus > 0))
    throw InputError("plan: give exactly one of --rate R (> 0) and --gpus G (> 0)");
  if (r.max_gpus < 1 || r.max_gpus > 4096 || r.gpus > 4096 || r.target_rate_per_s > 1e9)
    throw InputError("plan: --gpus and --max-gpus must be in [1, 4096], --rate at most 1e9");
  require_option_in_range("jobs", r.jobs, 1, 1024);
  if (vm->count("seeds")) r.overrides.push_back(fmt::format("comparison.seeds={}", seeds));
  r.experiment = experiment_argument(context, file);
  r.checkpoint = [&context] { context.checkpoint(); };
  r.progress = [&context](const std::string& line) { fmt::print(context.out, "{}\n", line); };
  const auto plan = plan_capacity(r, context.locations, context.registry);
  print_plan(context.out, plan);
  if (!out_path.empty()) write_file_atomically(out_path, plan.to_json().dump(2) + "\n");
  return 0;
}

}  // namespace vibesim
