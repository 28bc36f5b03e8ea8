// `vibesim profile fit`: a variability profile from per-run measurements of a GPU fleet.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "io/json_text.h"
#include "models/variability_fit.h"
#include "models/variability_profile.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

// What the fit found, as `profile fit` prints it.
void print_fit_summary(std::ostream& out, const std::string& csv, const VariabilityFit& fit) {
  fmt::print(out, "{}: {} GPUs, {} rows used, {} skipped (time empty or not a number)\n", csv,
             fit.gpu_ids.size(), fit.rows_used, fit.rows_skipped);
  fmt::print(out,
             "relative time r_g (GPU median / fleet median {:.6g}): p05 {:.4f}  p50 {:.4f}  p95 "
             "{:.4f}  p95/p05 {:.4f}  max/min {:.4f}  cv {:.4f}\n",
             fit.reference_time, fit.p05, fit.p50, fit.p95, fit.p95 / fit.p05, fit.max_over_min,
             fit.cv);
  fmt::print(out, "lognormal fit: sigma {:.4f}; run-to-run cv (median over GPUs) {:.4f}\n",
             fit.lognormal_sigma, fit.run_to_run_cv);
  for (const auto& s : fit.side)
    fmt::print(out, "correlation of r_g with per-GPU median {}: {:+.3f}\n", s.column,
               s.correlation_with_relative_time);
}

int fit_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim profile fit CSV --gpu-col NAME --time-col NAME [options] -o PROFILE.json\n\n"
      "Per GPU the median of its times; r_g = that / the median over GPUs. Writes a profile\n"
      "usable as an experiment's cluster.profile: r_g's empirical quantiles (relative_time),\n"
      "a lognormal fit, and summary {gpus, p05, p50, p95, max_over_min, cv}. Rows whose time\n"
      "is empty or not a number are skipped and counted.\n\noptions");
  std::string csv, out_path, name;
  VariabilityFitColumns columns;
  std::string clock, power, temperature;
  options.add_options()("help,h", "show this help")("gpu-col", po::value(&columns.gpu),
                                                    "column naming the GPU (e.g. uuid)")(
      "time-col", po::value(&columns.time), "column with the run's time (any unit)")(
      "clock-col", po::value(&clock), "optional: clock column (per-GPU median, correlation)")(
      "power-col", po::value(&power), "optional: power column")("temp-col", po::value(&temperature),
                                                                "optional: temperature column")(
      "name", po::value(&name), "profile name (default: the CSV's file name)")(
      "out,o", po::value(&out_path), "profile file to write");
  const auto vm = parse_command_line(context, args, options, "csv", &csv);
  if (!vm) return 0;
  if (csv.empty()) throw InputError("profile fit: the CSV file is required");
  for (const char* required : {"gpu-col", "time-col", "out"})
    if (!vm->count(required))
      throw InputError(fmt::format("profile fit: --{} is required", required));
  if (!clock.empty()) columns.clock = clock;
  if (!power.empty()) columns.power = power;
  if (!temperature.empty()) columns.temperature = temperature;
  // Each goes into the profile it writes; so does the CSV's name (the default
  // --name), checked as the CSV is opened, as every input file's is.
  for (const auto& [option, text] : {std::pair{"--name", name},
                                     {"--gpu-col", columns.gpu},
                                     {"--time-col", columns.time},
                                     {"--clock-col", clock},
                                     {"--power-col", power},
                                     {"--temp-col", temperature}})
    require_json_text(text, option);
  if (name.empty()) name = std::filesystem::path(csv).stem().string();
  refuse_output_over_input(out_path, csv);

  const auto fit = fit_variability(csv, columns);
  const auto source =
      fmt::format("vibesim profile fit {} --gpu-col {} --time-col {}",
                  std::filesystem::path(csv).filename().string(), columns.gpu, columns.time);
  const auto profile = variability_profile_json(fit, name, source);
  {
    // What fit writes must load: read it back as `run` will, before writing.
    const nlohmann::json as_read = profile;
    ConfigObject check(as_read, out_path);
    (void)parse_variability_profile(check, name);
  }
  write_file_atomically(out_path, profile.dump(2) + "\n");
  print_fit_summary(context.out, csv, fit);
  fmt::print(context.out, "wrote {}\n", out_path);
  return 0;
}

}  // namespace

int profile_command(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print(context.out,
               "vibesim profile fit CSV --gpu-col NAME --time-col NAME [...] -o PROFILE.json\n"
               "  fit a variability profile to per-run measurements of many GPUs\n"
               "vibesim profile check GPU[/PROFILE] [--model M] [--gpus N] [--seed S]\n"
               "  the kernel/DVFS model's clocks, power and spread beside calibration targets\n"
               "'vibesim profile fit --help' and 'vibesim profile check --help' show options.\n");
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "fit") return fit_command(context, rest);
  if (args[0] == "check") return profile_check_command(context, rest);
  throw InputError(
      fmt::format("profile: unknown subcommand '{}'; valid subcommands are: fit, check", args[0]));
}

}  // namespace vibesim
