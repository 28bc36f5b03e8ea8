#pragma once
// The vibesim command line, as a function so tests can drive it in-process.
// Exit status: 0 success, 2 bad input (one-line message on `err`), 1 internal error.
#include <ostream>
#include <string>
#include <vector>

#include "policies/policy_registry.h"
#include "sim/experiment.h"

namespace vibesim {

// What every subcommand gets.
struct CliContext {
  ConfigLocations locations;
  PolicyRegistry registry;
  std::ostream& out;
  std::ostream& err;
};

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Subcommands, one file each: `args` excludes the subcommand name.
int run_command(const CliContext& context, const std::vector<std::string>& args);
int list_command(const CliContext& context, const std::vector<std::string>& args);
int place_command(const CliContext& context, const std::vector<std::string>& args);
int profile_command(const CliContext& context, const std::vector<std::string>& args);
int bench_command(const CliContext& context, const std::vector<std::string>& args);

}  // namespace vibesim
