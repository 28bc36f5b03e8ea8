#include "tools/cli.h"

#include <filesystem>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options/errors.hpp>

#include "io/config_error.h"

namespace vibesim {

namespace {

constexpr const char* kUsage =
    R"(vibesim - simulate MoE expert placement on GPUs whose speeds differ

usage: vibesim <command> [options]

commands:
  run [EXPERIMENT.json]   simulate an experiment (default: configs/experiments/quickstart.json)
                          and write summary.json, layers.csv, gpu_profile.json,
                          expert_loads.json, config.resolved.json; an experiment with a
                          'serving' section runs requests through continuous batching
                          and writes requests.csv and SLO metrics (--frontier, --requests);
                          --seeds N compares the policies over N seeds with 95 % intervals;
                          --routing TRACE replays recorded routing
  sweep SWEEP.json --out DIR [--jobs N]
                          run an experiment at every point of a grid or list of overrides,
                          on threads, resumably; results.csv and results.json per point
  plan EXPERIMENT (--rate R | --gpus G)
                          capacity planning: the smallest GPU count sustaining a request
                          rate within the SLOs, or the rate a GPU count sustains, per policy
  fidelity fit|report FACTS.json
                          calibrate model constants on measured facts and test them on the
                          facts held out (configs/fidelity/)
  report DIR [-o report.html]
                          a self-contained HTML report of a run directory or sweep folder
  check BASELINE.json [--update]
                          policy quality as a CI gate: orderings and recorded values that
                          must hold; exits 4 on a regression (configs/checks/ci.json)
  place --policy NAME --loads FILE --gpus G [...]
                          place experts for recorded loads of a real deployment and write
                          the expert-location file SGLang reads, and a report
  profile fit CSV --gpu-col NAME --time-col NAME -o PROFILE.json
                          fit a variability profile to per-run measurements of a GPU fleet
  profile check GPU[/PROFILE]
                          the DVFS model's clocks, power and spread beside calibration targets
  trace stats|convert|fit|generate
                          inspect routing traces, convert between formats, fit correlated
                          synthetic routing to a trace, generate traces
  hw devices|calibrate|replay|validate
                          real-hardware mode (CUDA): calibrate latency profiles on real
                          GPUs, replay an experiment's layer steps on them, and validate
                          the simulator against them; exits 3 without a GPU
  list                    the models, GPUs, variability profiles and policies available
  bench [--json]          speed benchmarks (layer steps per second, ...)
  help                    this text

'vibesim <command> --help' shows a command's options.
Environment: VIBESIM_CONFIGS overrides the configs folder, VIBESIM_DATA the measured-data folder.
)";

// Parses `args` against `all` (the shown `options` plus hidden positionals).
std::optional<boost::program_options::variables_map> parse_with(
    const CliContext& context, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    const boost::program_options::options_description& all,
    const boost::program_options::positional_options_description& positional) {
  namespace po = boost::program_options;
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    fmt::print(context.out, "{}", fmt::streamed(options));
    return std::nullopt;
  }
  return vm;
}

}  // namespace

std::optional<boost::program_options::variables_map> parse_command_line(
    const CliContext& context, const std::vector<std::string>& args,
    const boost::program_options::options_description& options, const std::string& positional_name,
    std::string* positional_value) {
  namespace po = boost::program_options;
  po::options_description all;
  all.add(options);
  po::positional_options_description positional;
  if (positional_value != nullptr) {
    all.add_options()(positional_name.c_str(), po::value(positional_value));
    positional.add(positional_name.c_str(), 1);
  }
  return parse_with(context, args, options, all, positional);
}

std::optional<boost::program_options::variables_map> parse_command_line(
    const CliContext& context, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    std::vector<std::string>* positional_values) {
  namespace po = boost::program_options;
  po::options_description all;
  all.add(options);
  all.add_options()("positional-arguments", po::value(positional_values));
  po::positional_options_description positional;
  positional.add("positional-arguments", -1);
  return parse_with(context, args, options, all, positional);
}

namespace {

// The one global: a signal handler can only set a flag of this type. The
// command line polls it (CliContext::checkpoint) and unwinds cleanly.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void request_stop(int signal) {
  g_stop_signal = signal;
  std::signal(signal, SIG_DFL);
}

}  // namespace

const volatile std::sig_atomic_t* install_stop_signal_handlers() {
  g_stop_signal = 0;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  return &g_stop_signal;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const volatile std::sig_atomic_t* stop_signal, const HardwareFactory& open_hardware) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    out << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
#ifdef VIBESIM_HAVE_MPI
    constexpr const char* mpi = "yes";
#else
    constexpr const char* mpi = "no";
#endif
#ifdef VIBESIM_HAVE_CUDA
    constexpr const char* cuda = "yes";
#else
    constexpr const char* cuda = "no";
#endif
    fmt::print(out, "vibesim " VIBESIM_VERSION " (MPI sweeps: {}, CUDA executor: {})\n", mpi, cuda);
    return 0;
  }
  const CliContext context{ConfigLocations::from_environment(),
                           PolicyRegistry::builtin(),
                           out,
                           err,
                           stop_signal,
                           open_hardware};
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (args[0] == "run") return run_command(context, rest);
    if (args[0] == "place") return place_command(context, rest);
    if (args[0] == "profile") return profile_command(context, rest);
    if (args[0] == "list") return list_command(context, rest);
    if (args[0] == "bench") return bench_command(context, rest);
    if (args[0] == "trace") return trace_command(context, rest);
    if (args[0] == "sweep") return sweep_command(context, rest);
    if (args[0] == "plan") return plan_command(context, rest);
    if (args[0] == "fidelity") return fidelity_command(context, rest);
    if (args[0] == "check") return check_command(context, rest);
    if (args[0] == "report") return report_command(context, rest);
    if (args[0] == "hw") return hw_command(context, rest);
    fmt::print(err,
               "vibesim: unknown command '{}'; valid commands are: run, sweep, plan, fidelity, "
               "check, report, place, profile, trace, hw, list, bench, help\n",
               args[0]);
    return 2;
  } catch (const Interrupted& e) {
    fmt::print(err, "vibesim: stopped by signal {}; unfinished output removed\n", e.signal);
    return 128 + e.signal;
  } catch (const InputError& e) {
    fmt::print(err, "vibesim: error: {}\n", e.what());
    return 2;
  } catch (const NoDevice& e) {
    fmt::print(err, "vibesim: {}\n", e.what());
    return 3;
  } catch (const boost::program_options::error& e) {
    fmt::print(err, "vibesim {}: error: {}\n", args[0], e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(err, "vibesim: internal error: {}\n", e.what());
    return 1;
  }
}

std::vector<ListItem> comma_separated_numbers(const std::string& text) {
  std::vector<ListItem> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    std::size_t used = 0;
    double value = std::numeric_limits<double>::quiet_NaN();
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {  // not a number, or out of a double's range
    }
    if (used != item.size()) value = std::numeric_limits<double>::quiet_NaN();
    items.push_back({std::move(item), value});
  }
  return items;
}

void require_option_in_range(const std::string& name, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi))  // written so that NaN fails too
    throw InputError(fmt::format("--{}: must be in [{}, {}], got {}", name, lo, hi, value));
}

std::string experiment_argument(const CliContext& context, const std::string& text) {
  std::error_code ec;
  if (text.empty() || text.ends_with(".json") || text.find('/') != std::string::npos ||
      std::filesystem::exists(text, ec))
    return text;
  const auto shipped = context.locations.experiment_file(text, {});
  if (!std::filesystem::is_regular_file(shipped, ec))
    throw InputError(fmt::format("{}: no such file, nor a shipped experiment ({} holds them)", text,
                                 shipped.parent_path().string()));
  return shipped.string();
}

std::uint64_t seed_option(std::int64_t value) {
  if (value < 0) throw InputError(fmt::format("--seed: must be >= 0, got {}", value));
  return static_cast<std::uint64_t>(value);
}

}  // namespace vibesim
