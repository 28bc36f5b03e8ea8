#pragma once
// Fuzz targets: every parser of outside input, each as a function of the raw
// bytes a user could hand us. The contract each target checks is the one
// docs/bad-input.md promises: the bytes either load, or the parser throws
// InputError with a one-line message (naming the file where there is one).
// Anything else that escapes (another exception, a crash, a sanitizer report,
// a hang or an absurd allocation under libFuzzer's limits) is a bug.
//
// The same registry drives the libFuzzer driver (fuzz/fuzz_main.cpp, built
// with tools/fuzz_check.sh) and the regression test that replays the seeds
// and every input fuzzing ever found (fuzz/regressions/<target>/).
#include <filesystem>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "io/config_locations.h"

namespace vibesim {

// Where a target writes the bytes before calling a path-based reader, and the
// shipped configs it resolves names against.
struct FuzzScratch {
  std::filesystem::path folder;  // private to this process
  ConfigLocations locations;
};

struct FuzzTarget {
  const char* name;
  const char* description;
  const char* file_name;  // the scratch file's name: readers choose a format by extension
  // Seed corpus: folders relative to the repository root, shipped configs and
  // data first, then fuzz/corpus/<name> for forms nothing ships.
  std::vector<std::string> seed_dirs;
  std::function<void(const std::filesystem::path& input, const FuzzScratch& scratch)> parse;
};

std::span<const FuzzTarget> fuzz_targets();
// nullptr if there is no such target.
const FuzzTarget* find_fuzz_target(std::string_view name);

struct FuzzContractViolation : std::logic_error {
  using std::logic_error::logic_error;
};

// Writes `bytes` to the target's scratch file and parses it. Returns normally
// when the input loads or is refused per the contract; throws
// FuzzContractViolation when a refusal breaks it, and lets any other
// exception through.
void run_fuzz_target(const FuzzTarget& target, std::string_view bytes, const FuzzScratch& scratch);

// A fresh scratch folder under the system's temporary directory, named by pid.
FuzzScratch make_fuzz_scratch();

}  // namespace vibesim
