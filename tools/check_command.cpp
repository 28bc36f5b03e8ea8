// `vibesim check BASELINE.json`: policy quality as a CI gate. docs/check.md.

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "base/parallel_for.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "studies/quality_check.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

// Exit status when a check regressed (2 stays "bad input").
constexpr int kRegressed = 4;

void print_outcomes(std::ostream& out, const std::vector<CheckOutcome>& outcomes) {
  for (const auto& o : outcomes) {
    fmt::print(out, "{}  {}\n", o.passed ? "pass" : "FAIL", o.check->name);
    fmt::print(out, "        expected: {}\n        measured: {}\n", o.expected, o.measured);
  }
}

nlohmann::ordered_json outcomes_json(const Baseline& b, const std::vector<CheckOutcome>& outcomes) {
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& o : outcomes)
    checks.push_back({{"name", o.check->name},
                      {"kind", name_of(kCheckKinds, o.check->kind)},
                      {"passed", o.passed},
                      {"expected", o.expected},
                      {"measured", o.measured}});
  return {{"baseline", b.name}, {"checks", checks}};
}

}  // namespace

int check_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim check BASELINE.json [--update] [--jobs N] [-o RESULTS.json]\n\n"
      "Runs the baseline's checks of policy quality (orderings of policies on a metric,\n"
      "metrics within a tolerance of recorded values, EPLB against its reference answer),\n"
      "prints expected beside measured, and exits 4 if any check fails. --update records\n"
      "the measured values in the baseline instead (showing each change) and exits 0.\n"
      "configs/checks/ci.json is the suite CI runs. docs/check.md.\n\noptions");
  std::string file, out_path;
  bool update = false;
  CheckOptions o;
  o.jobs = machine_cores();
  options.add_options()("help,h", "show this help")("update", po::bool_switch(&update),
                                                    "write the measured values into the baseline")(
      "jobs,j", po::value(&o.jobs), "threads for the runs")("out,o", po::value(&out_path),
                                                            "also write the outcomes as JSON");
  const auto vm = parse_command_line(context, args, options, "baseline", &file);
  if (!vm) return 0;
  if (file.empty()) throw InputError("check: give a BASELINE file");
  require_option_in_range("jobs", o.jobs, 1, 1024);
  o.checkpoint = [&context] { context.checkpoint(); };
  const auto baseline = Baseline::load(file, context.locations);
  const auto outcomes = run_checks(baseline, context.locations, context.registry, o);
  print_outcomes(context.out, outcomes);
  if (!out_path.empty())
    write_file_atomically(out_path, outcomes_json(baseline, outcomes).dump(2) + "\n");
  if (update) {
    const auto u = updated_baseline(baseline, outcomes);
    for (const auto& change : u.changes) fmt::print(context.out, "updated {}\n", change);
    if (!u.changes.empty()) write_file_atomically(file, u.text);
    fmt::print(context.out, "{} recorded value(s) changed in {}\n", u.changes.size(), file);
    return 0;
  }
  int failed = 0;
  for (const auto& c : outcomes) failed += c.passed ? 0 : 1;
  fmt::print(context.out, "{} of {} checks passed\n", outcomes.size() - failed, outcomes.size());
  return failed == 0 ? 0 : kRegressed;
}

}  // namespace vibesim
