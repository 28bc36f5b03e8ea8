// `vibesim sweep`: run a base experiment at many points, on threads, resumably.
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "base/parallel_for.h"
#include "io/config_error.h"
#include "studies/rank_group.h"
#include "studies/sweep.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

// On a terminal a bar redrawn in place; otherwise a line per point.
std::function<void(int, int, double)> progress_printer(std::ostream& out, bool terminal) {
  return [&out, terminal](int done, int total, double seconds) {
    const double eta = done > 0 ? seconds / done * (total - done) : 0;
    if (terminal) {
      constexpr int kWidth = 30;
      const int filled = total > 0 ? done * kWidth / total : kWidth;
      fmt::print(out, "\r[{}{}] {}/{} points, {:.0f} s, ETA {:.0f} s{}",
                 std::string(static_cast<std::size_t>(filled), '#'),
                 std::string(static_cast<std::size_t>(kWidth - filled), '.'), done, total, seconds,
                 eta, done == total ? "\n" : "");
      out.flush();
    } else {
      fmt::print(out, "point {}/{} done ({:.1f} s, ETA {:.0f} s)\n", done, total, seconds, eta);
    }
  };
}

}  // namespace

int sweep_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim sweep SWEEP.json --out DIR [options]\n\n"
      "Runs a base experiment at every point of a sweep (a list of overrides times a grid\n"
      "of values for any config keys; docs/studies.md), each point into DIR/points/<n>/ as\n"
      "`vibesim run` would, then writes DIR/results.csv and DIR/results.json (one row per\n"
      "point: its overrides, then each policy's headline metrics). Rerunning the same sweep\n"
      "into DIR skips the finished points.\n\noptions");
  std::string out_dir, file;
  int jobs = machine_cores();
  options.add_options()("help,h", "show this help")("out,o", po::value(&out_dir),
                                                    "the sweep's folder (required)")(
      "jobs,j", po::value(&jobs),
      "threads for the points (default: the machine's cores; the "
      "files are the same for any number)")(
      "force", "start a changed sweep over in DIR (deletes its finished points)")("quiet,q",
                                                                                  "no progress");
  const auto vm = parse_command_line(context, args, options, "sweep", &file);
  if (!vm) return 0;
  if (file.empty() || out_dir.empty()) throw InputError("sweep: give SWEEP.json and --out DIR");
  require_option_in_range("jobs", jobs, 1, 1024);
  const auto spec = SweepSpec::load(file, context.locations);
  SweepOptions run;
  run.jobs = jobs;
  run.force = vm->count("force") > 0;
  run.checkpoint = [&context] { context.checkpoint(); };
  const bool terminal = &context.out == &std::cout && ::isatty(1);
  if (!vm->count("quiet")) run.progress = progress_printer(context.out, terminal);
  const auto outcome = run_sweep(spec, out_dir, context.locations, context.registry, run);
  if (!RankGroup::world().leader()) return outcome.failed.empty() ? 0 : 2;  // rank 0 reports
  fmt::print(context.out, "{}sweep {}: {} points ({} run, {} already done); results in {}\n",
             terminal && !vm->count("quiet") ? "\n" : "", spec.name, outcome.points, outcome.ran,
             outcome.skipped, (std::filesystem::path(out_dir) / "results.csv").string());
  if (outcome.failed.empty()) return 0;
  for (const auto& [point, error] : outcome.failed)
    fmt::print(context.err, "vibesim: error: sweep {}: {}\n", spec.name, error);
  fmt::print(context.err,
             "vibesim: {} of {} points failed (listed in the results with their "
             "errors; a rerun into the same folder retries only them)\n",
             outcome.failed.size(), outcome.points);
  return 2;
}

}  // namespace vibesim
