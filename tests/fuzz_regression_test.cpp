// Replays every fuzz target's seed corpus and every input fuzzing has found
// (fuzz/regressions/<target>/, one file per finding) through the target, in
// every build: each must load or be refused with a one-line InputError that
// names the file (fuzz/fuzz_targets.h).
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "fixtures.h"
#include "fuzz/fuzz_targets.h"

namespace vibesim {
namespace {

std::filesystem::path repository_root() {
  return testing::config_dir().parent_path();
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(folder)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string bytes_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("every fuzz target keeps the bad-input contract on its seeds and past findings") {
  const auto scratch = make_fuzz_scratch();
  int inputs = 0;
  for (const auto& target : fuzz_targets()) {
    auto folders = target.seed_dirs;
    folders.push_back(std::string("fuzz/regressions/") + target.name);
    int seeds = 0;
    for (const auto& folder : folders) {
      for (const auto& file : files_in(repository_root() / folder)) {
        CAPTURE(file);
        CHECK_NOTHROW(run_fuzz_target(target, bytes_of(file), scratch));
        ++seeds;
      }
    }
    CAPTURE(target.name);
    CHECK(seeds > 0);  // a target without seeds would be fuzzed from nothing
    inputs += seeds;
  }
  std::filesystem::remove_all(scratch.folder);
  CHECK(inputs > 40);
}

TEST_CASE("fuzz targets are found by name and refuse empty input per the contract") {
  CHECK(find_fuzz_target("nonexistent") == nullptr);
  const auto scratch = make_fuzz_scratch();
  for (const auto& target : fuzz_targets()) {
    CAPTURE(target.name);
    CHECK(find_fuzz_target(target.name) == &target);
    CHECK_NOTHROW(run_fuzz_target(target, "", scratch));
    CHECK_NOTHROW(run_fuzz_target(target, std::string(64, '\xff'), scratch));
  }
  std::filesystem::remove_all(scratch.folder);
}

}  // namespace
}  // namespace vibesim
