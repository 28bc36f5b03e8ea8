#pragma once
// The vibesim command line, as a function so tests can drive it in-process.
// Exit status: 0 success, 2 bad input (one-line message on `err`), 1 internal
// error, 3 no GPU for `vibesim hw`.
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "hw/hardware_backend.h"
#include "io/atomic_file.h"
#include "policies/policy_registry.h"
#include "sim/experiment.h"

namespace vibesim {

// Thrown at the next checkpoint after SIGINT or SIGTERM: the run stops, its
// staging folder is removed as the stack unwinds, and the exit status is
// 128 + the signal (130, 143).
struct Interrupted {
  int signal;
};

// Opens the GPUs `vibesim hw` runs on (tests give modelled ones).
using HardwareFactory = std::function<std::unique_ptr<HardwareBackend>()>;

// What every subcommand gets.
struct CliContext {
  ConfigLocations locations;
  PolicyRegistry registry;
  std::ostream& out;
  std::ostream& err;
  // The signal that asked the program to stop (0: none), set by main's
  // handler; nullptr when nothing can interrupt (tests).
  const volatile std::sig_atomic_t* stop_signal = nullptr;
  HardwareFactory open_hardware = open_cuda_backend;

  // Where to say what was written to `output`: stderr when the output is a
  // stream (it may be stdout itself), else stdout.
  [[nodiscard]] std::ostream& status_stream(const std::filesystem::path& output) const {
    return is_stream_output(output) ? err : out;
  }

  // Long work calls this often (per layer step, per finished request).
  void checkpoint() const {
    if (stop_signal != nullptr && *stop_signal != 0) throw Interrupted{*stop_signal};
  }
};

// Installs main's SIGINT/SIGTERM handler and returns the flag it sets (0
// until a signal arrives). The first signal asks for a clean stop at the next
// checkpoint; the handler then restores the default action, so a second one
// ends the process at once even where no checkpoint is reached (a staging
// folder left behind is removed by the next run into the same parent folder).
const volatile std::sig_atomic_t* install_stop_signal_handlers();

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const volatile std::sig_atomic_t* stop_signal = nullptr,
            const HardwareFactory& open_hardware = open_cuda_backend);

// Parses a subcommand's `args` against `options`, plus one optional positional
// argument stored in `*positional_value` when `positional_name` is given.
// Returns nullopt after printing `options` for --help (the subcommand then
// returns 0); unknown options throw boost::program_options errors (status 2).
std::optional<boost::program_options::variables_map> parse_command_line(
    const CliContext& context, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    const std::string& positional_name = "", std::string* positional_value = nullptr);
// ... with any number of positional arguments, stored in `*positional_values`.
std::optional<boost::program_options::variables_map> parse_command_line(
    const CliContext& context, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    std::vector<std::string>* positional_values);

// One item of a comma-separated option value ("0,256,1024"): its text and
// its value, NaN when the text is not a number in full (so any range check
// refuses it). An empty value has no items; "3,,4" has an empty one.
struct ListItem {
  std::string text;
  double value;
};
std::vector<ListItem> comma_separated_numbers(const std::string& text);

// Refuses a numeric option outside [lo, hi], NaN included:
// "--name: must be in [lo, hi], got value".
void require_option_in_range(const std::string& name, double value, double lo, double hi);

// A --seed option's value, read as a signed integer so that "-1" is refused
// rather than wrapped to 2^64 - 1: [0, 2^63 - 1], as an experiment's `seed`.
std::uint64_t seed_option(std::int64_t value);

// EXPERIMENT as a command is given it: a file, or the name of a shipped
// experiment (`vibesim run drift` runs configs/experiments/drift.json), as a
// sweep's `base` may be. Anything that exists, or has a folder or a .json
// ending, is taken as the path it is.
std::string experiment_argument(const CliContext& context, const std::string& text);

// Subcommands, one file each: `args` excludes the subcommand name.
int run_command(const CliContext& context, const std::vector<std::string>& args);
int list_command(const CliContext& context, const std::vector<std::string>& args);
int place_command(const CliContext& context, const std::vector<std::string>& args);
int profile_command(const CliContext& context, const std::vector<std::string>& args);
int profile_check_command(const CliContext& context,
                          const std::vector<std::string>& args);  // `profile check`
int bench_command(const CliContext& context, const std::vector<std::string>& args);
int trace_command(const CliContext& context, const std::vector<std::string>& args);
int sweep_command(const CliContext& context, const std::vector<std::string>& args);
int plan_command(const CliContext& context, const std::vector<std::string>& args);
int fidelity_command(const CliContext& context, const std::vector<std::string>& args);
int check_command(const CliContext& context, const std::vector<std::string>& args);
int report_command(const CliContext& context, const std::vector<std::string>& args);
int hw_command(const CliContext& context, const std::vector<std::string>& args);

}  // namespace vibesim
