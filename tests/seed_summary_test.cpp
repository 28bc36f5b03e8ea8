// Comparing policies over seeds: intervals, paired ratios, and files that do
// not depend on the number of threads.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "outputs/seed_summary.h"

using namespace vibesim;

TEST_CASE("the 95 % interval of a mean uses Student's t with n - 1 degrees of freedom") {
  // 1, 2, 3: mean 2, sample sd 1, standard error 1/sqrt(3), t(0.975, 2) = 4.302652729911275.
  const auto i = mean_interval_95({1, 2, 3});
  CHECK(i.mean == doctest::Approx(2));
  CHECK(i.high - i.mean == doctest::Approx(4.302652729911275 / std::sqrt(3.0)));
  CHECK(i.mean - i.low == doctest::Approx(i.high - i.mean));
  const auto one = mean_interval_95({5});
  CHECK((one.mean == 5 && one.low == 5 && one.high == 5));
}

TEST_CASE("--seeds runs each seed in its own folder, the same for any number of threads") {
  testing::TempDir dir("seeds");
  const auto run = [&](const std::string& out, const std::string& jobs) {
    return testing::cli({"run", "--quiet", "--out", (dir.path / out).string(), "--seeds", "3",
                         "--jobs", jobs, "--set", "workload.iterations=2", "--set",
                         "workload.calibration_batches=3", "--set",
                         R"(policies=["static","eplb","vibe"])"});
  };
  const auto one = run("one", "1"), two = run("two", "2");
  REQUIRE_MESSAGE(one.status == 0, one.err);
  REQUIRE_MESSAGE(two.status == 0, two.err);
  for (const auto* file : {"summary.json", "config.resolved.json", "seed-1/layers.csv",
                           "seed-2/summary.json", "seed-3/layers.csv"}) {
    CAPTURE(file);
    CHECK(testing::read_file(dir.path / "one" / file) ==
          testing::read_file(dir.path / "two" / file));
  }
  const auto j = nlohmann::json::parse(testing::read_file(dir.path / "one" / "summary.json"));
  CHECK(j["seeds"] == nlohmann::json::parse("[1,2,3]"));
  CHECK(j["baseline"] == "eplb");
  const auto& eplb = j["policies"][1];
  REQUIRE(eplb["policy"] == "eplb");
  CHECK(eplb["ratio_to_baseline"]["layer_latency_p90_us"]["mean"] == 1.0);
  // The aggregate is the mean of the seeds' own summaries.
  double sum = 0;
  for (int s = 1; s <= 3; ++s) {
    const auto seed = nlohmann::json::parse(
        testing::read_file(dir.path / "one" / ("seed-" + std::to_string(s)) / "summary.json"));
    CHECK(seed["seed"] == s);
    sum += seed["policies"][1]["layer_latency_us"]["p90"].get<double>();
  }
  CHECK(eplb["metrics"]["layer_latency_p90_us"]["mean"].get<double>() == doctest::Approx(sum / 3));
  // A seed's folder reruns on its own.
  const auto again =
      testing::cli({"run", "--quiet", "--out", (dir.path / "again").string(),
                    (dir.path / "one" / "seed-2" / "config.resolved.json").string()});
  REQUIRE(again.status == 0);
  CHECK(testing::read_file(dir.path / "again" / "layers.csv") ==
        testing::read_file(dir.path / "one" / "seed-2" / "layers.csv"));
}

TEST_CASE("a baseline that is not one of the policies is bad input") {
  testing::TempDir dir("seeds-bad");
  const auto r = testing::cli({"run", "--quiet", "--out", (dir.path / "x").string(), "--seeds", "2",
                               "--baseline", "optimal", "--set", R"(policies=["static","eplb"])"});
  CHECK(r.status == 2);
  CHECK(
      r.err.find("key 'comparison.baseline': 'optimal' is not one of the experiment's policies") !=
      std::string::npos);
}
