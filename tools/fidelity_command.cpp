// `vibesim fidelity fit|report`: calibrate model constants on measured facts,
// and test the calibration on the facts held out. docs/fidelity.md.

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "base/parallel_for.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "studies/fidelity.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

struct FidelityArgs {
  std::string facts_file, out_path, parameters_file;
  FidelityOptions options;
};

// Parses the shared options; nullopt after --help.
std::optional<FidelityArgs> parse_fidelity_args(const CliContext& context,
                                                const std::vector<std::string>& args,
                                                const std::string& usage, bool report) {
  po::options_description options(usage);
  FidelityArgs a;
  a.options.jobs = machine_cores();
  options.add_options()("help,h", "show this help")("jobs,j", po::value(&a.options.jobs),
                                                    "threads for the runs")(
      "out,o", po::value(&a.out_path), "also write the result as JSON");
  if (report)
    options.add_options()("parameters", po::value(&a.parameters_file),
                          "apply a fit's parameters (fidelity fit -o FILE) instead of the SKU's");
  if (!parse_command_line(context, args, options, "facts", &a.facts_file)) return std::nullopt;
  if (a.facts_file.empty()) throw InputError("fidelity: give a FACTS file");
  require_option_in_range("jobs", a.options.jobs, 1, 1024);
  a.options.checkpoint = [&context] { context.checkpoint(); };
  a.options.progress = [&context](const std::string& line) {
    fmt::print(context.out, "{}\n", line);
  };
  return a;
}

int fidelity_fit_command(const CliContext& context, const std::vector<std::string>& args) {
  const auto a = parse_fidelity_args(
      context, args,
      "vibesim fidelity fit FACTS.json [-o FIT.json] [--jobs N]\n\n"
      "Calibrates the facts file's SKU parameters on its `fit` facts only, starting from the\n"
      "SKU as shipped: Gauss-Newton on the time shares for the parameters' ratios, then a\n"
      "common scale for the frontier, then the power parameters (power.*) on the power facts,\n"
      "in rounds until none moves. Prints the fitted values (copy them into the SKU file) and\n"
      "the fitted facts. docs/fidelity.md.\n\noptions",
      false);
  if (!a) return 0;
  const auto spec = FidelitySpec::load(a->facts_file, context.locations);
  const auto fit = fit_parameters(spec, context.locations, context.registry, a->options);
  fmt::print(context.out, "\nfitted parameters of {} ({} round(s)):\n", spec.gpu, fit.rounds);
  for (const auto& p : spec.parameters)
    fmt::print(context.out, "  {:<48} {:.4f}  (was {:.4f})\n", p, fit.fitted.at(p),
               fit.start.at(p));
  fmt::print(context.out, "\n{}", fidelity_table_markdown(fit.fitted_facts));
  if (!a->out_path.empty()) write_file_atomically(a->out_path, fit.to_json(spec).dump(2) + "\n");
  return 0;
}

int fidelity_report_command(const CliContext& context, const std::vector<std::string>& args) {
  const auto a = parse_fidelity_args(
      context, args,
      "vibesim fidelity report FACTS.json [--parameters FIT.json] [-o RESULTS.json] [--jobs N]\n\n"
      "Evaluates every fact of the facts file over its seeds (95 % intervals): the paper's\n"
      "value, the simulator's, the error, and whether the fit used it. Markdown on stdout.\n"
      "docs/fidelity.md.\n\noptions",
      true);
  if (!a) return 0;
  const auto spec = FidelitySpec::load(a->facts_file, context.locations);
  ParameterValues parameters;
  if (!a->parameters_file.empty()) parameters = load_parameter_values(a->parameters_file, spec);
  const auto results =
      evaluate_facts(spec, parameters, false, context.locations, context.registry, a->options);
  fmt::print(context.out, "\n{}", fidelity_table_markdown(results));
  if (!a->out_path.empty())
    write_file_atomically(a->out_path,
                          fidelity_results_json(spec, parameters, results).dump(2) + "\n");
  return 0;
}

}  // namespace

int fidelity_command(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print(context.out,
               "vibesim fidelity fit FACTS.json [-o FIT.json]\n"
               "  calibrate the SKU parameters the facts file names on its `fit` facts\n"
               "vibesim fidelity report FACTS.json [--parameters FIT.json] [-o RESULTS.json]\n"
               "  every fact, paper beside simulator, over seeds; fitted or held out\n"
               "Each takes --help. configs/fidelity/ holds the paper's facts.\n");
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "fit") return fidelity_fit_command(context, rest);
  if (args[0] == "report") return fidelity_report_command(context, rest);
  throw InputError(
      fmt::format("fidelity: unknown subcommand '{}'; valid values are: fit, report", args[0]));
}

}  // namespace vibesim
