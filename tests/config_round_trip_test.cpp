// The round-trip law of configs, for every shipped experiment: load ->
// to_json -> write -> load again gives the same resolved JSON, and rerunning
// a run directory's config.resolved.json reproduces its outputs byte for byte.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "fixtures.h"
#include "policies/policy_registry.h"
#include "sim/experiment.h"

using namespace vibesim;

namespace {

std::vector<std::filesystem::path> shipped_experiments() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(testing::config_dir() / "experiments"))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Short enough for a unit test; every section of the experiment stays.
std::vector<std::string> shortened(const Experiment& x) {
  std::vector<std::string> set = {"workload.calibration_batches=3", R"(policies=["static","vibe"])",
                                  fmt::format(R"(comparison={{"seeds":{},"baseline":"static"}})",
                                              std::min(x.comparison.seeds, 2))};
  if (x.serving_enabled) {
    set.push_back("serving.requests.count=25");
  } else {
    set.push_back("workload.iterations=3");
  }
  return set;
}

std::vector<std::string> with_sets(std::vector<std::string> args,
                                   const std::vector<std::string>& sets) {
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  return args;
}

}  // namespace

TEST_CASE("every shipped experiment: load, write, load again gives the same resolved config") {
  const auto locations = ConfigLocations::from_environment();
  const PolicyRegistry registry = PolicyRegistry::builtin();
  const auto experiments = shipped_experiments();
  REQUIRE(experiments.size() >= 8);
  testing::TempDir dir("round-trip");
  for (const auto& path : experiments) {
    CAPTURE(path);
    const auto first = load_experiment(path, {}, locations, registry).to_json().dump(2);
    const auto resolved = dir.write(path.filename().string(), first);
    const auto second = load_experiment(resolved, {}, locations, registry).to_json().dump(2);
    CHECK(first == second);
  }
}

TEST_CASE("rerunning a run directory's config.resolved.json reproduces its outputs byte for byte" *
          doctest::timeout(600)) {
  const auto locations = ConfigLocations::from_environment();
  const PolicyRegistry registry = PolicyRegistry::builtin();
  testing::TempDir dir("rerun");
  for (const auto& path : shipped_experiments()) {
    CAPTURE(path);
    const auto x = load_experiment(path, {}, locations, registry);
    const auto first = dir.path / (x.name + "-first"), second = dir.path / (x.name + "-second");
    const auto a = testing::cli(
        with_sets({"run", path.string(), "--quiet", "--out", first.string()}, shortened(x)));
    REQUIRE_MESSAGE(a.status == 0, a.err);
    const auto b = testing::cli(
        {"run", (first / "config.resolved.json").string(), "--quiet", "--out", second.string()});
    REQUIRE_MESSAGE(b.status == 0, b.err);
    std::vector<std::filesystem::path> files;  // every file, seed folders included
    for (const auto& e : std::filesystem::recursive_directory_iterator(first))
      if (e.is_regular_file()) files.push_back(std::filesystem::relative(e.path(), first));
    CHECK(files.size() >= 3);
    for (const auto& f : files) {
      CAPTURE(f);
      CHECK(testing::read_file(first / f) == testing::read_file(second / f));
    }
  }
}
