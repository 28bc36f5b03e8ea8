// Sweeps: points expand in a fixed order, run into their own folders, resume
// after an interruption, give the same bytes for any number of threads, and
// refuse bad points and foreign folders.
#include <doctest/doctest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "studies/rank_group.h"
#include "studies/sweep.h"

using namespace vibesim;

namespace {

const char* kSweep = R"({
  "name": "tiny",
  "base": "quickstart",
  "points": [{"cluster.profile": "default"}, {"cluster.profile": "high-variability"}],
  "grid": {"workload.iterations": [2], "workload.routing.zipf_exponent": [0.6, 1.0],
           "policies": [["static", "eplb"]]}
})";

}  // namespace

TEST_CASE("sweep points: each list entry times the grid, the grid's last key fastest") {
  testing::TempDir dir("sweep-expand");
  const auto spec =
      SweepSpec::load(dir.write("s.json", kSweep), ConfigLocations::from_environment());
  const auto points = expand_points(spec);
  REQUIRE(points.size() == 4);
  CHECK(points[1].index == 1);
  CHECK(points[1].overrides[0].second == "default");
  CHECK(points[1].overrides[2].second == 1.0);
  CHECK(points[2].overrides[0].second == "high-variability");
  CHECK(points[2].overrides[2].second == 0.6);
}

TEST_CASE("a sweep file is read once, so it can come through a pipe (/dev/stdin)") {
  int ends[2];
  REQUIRE(::pipe(ends) == 0);
  const std::string text = kSweep;  // far below the pipe's buffer: the write does not block
  REQUIRE(::write(ends[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(ends[1]);
  // It was read a second time for the grid's key order: empty, an internal error.
  const auto spec =
      SweepSpec::load(fmt::format("/dev/fd/{}", ends[0]), ConfigLocations::from_environment());
  ::close(ends[0]);
  CHECK(expand_points(spec).size() == 4);
}

TEST_CASE("a sweep runs every point once, resumes, and gives the same files on 1 or 2 threads") {
  testing::TempDir dir("sweep-run");
  const auto file = dir.write("s.json", kSweep);
  const auto one = testing::cli(
      {"sweep", file.string(), "--out", (dir.path / "a").string(), "--jobs", "1", "--quiet"});
  INFO(one.err);
  REQUIRE(one.status == 0);
  CHECK(one.out.find("4 points (4 run, 0 already done)") != std::string::npos);
  const auto csv = testing::read_file(dir.path / "a" / "results.csv");
  CHECK(
      csv.starts_with("point,cluster.profile,workload.iterations,workload.routing.zipf_exponent,"
                      "policies,static.layer_latency_p50_us,"));
  CHECK(csv.find("\n3,high-variability,2,1.0,\"[\"\"static\"\",\"\"eplb\"\"]\",") !=
        std::string::npos);
  const auto results = nlohmann::json::parse(testing::read_file(dir.path / "a" / "results.json"));
  CHECK(results["points"].size() == 4);
  CHECK(results["points"][3]["run"] == "points/0003");
  // Rerun: nothing to do; the results are rewritten identically.
  const auto again =
      testing::cli({"sweep", file.string(), "--out", (dir.path / "a").string(), "--quiet"});
  CHECK(again.out.find("4 points (0 run, 4 already done)") != std::string::npos);
  CHECK(testing::read_file(dir.path / "a" / "results.csv") == csv);
  // An interrupted sweep (simulated: one finished point deleted) resumes.
  std::filesystem::remove_all(dir.path / "a" / "points" / "0002");
  const auto resumed = testing::cli(
      {"sweep", file.string(), "--out", (dir.path / "a").string(), "--quiet", "--jobs", "2"});
  CHECK(resumed.out.find("4 points (1 run, 3 already done)") != std::string::npos);
  CHECK(testing::read_file(dir.path / "a" / "results.csv") == csv);
  // Two threads from scratch: the same bytes.
  REQUIRE(testing::cli({"sweep", file.string(), "--out", (dir.path / "b").string(), "--jobs", "2",
                        "--quiet"})
              .status == 0);
  CHECK(testing::read_file(dir.path / "b" / "results.csv") == csv);
  CHECK(testing::read_file(dir.path / "b" / "points" / "0001" / "layers.csv") ==
        testing::read_file(dir.path / "a" / "points" / "0001" / "layers.csv"));
}

TEST_CASE("a changed sweep, a foreign folder and a bad point are refused") {
  testing::TempDir dir("sweep-refuse");
  const auto file = dir.write("s.json", kSweep);
  REQUIRE(testing::cli({"sweep", file.string(), "--out", (dir.path / "a").string(), "--quiet"})
              .status == 0);
  std::string changed = kSweep;
  changed.replace(changed.find("[0.6, 1.0]"), 10, "[0.7]");
  const auto other = dir.write("t.json", changed);
  const auto refused =
      testing::cli({"sweep", other.string(), "--out", (dir.path / "a").string(), "--quiet"});
  CHECK(refused.status == 2);
  CHECK(refused.err.find("holds a different sweep") != std::string::npos);
  const auto forced = testing::cli(
      {"sweep", other.string(), "--out", (dir.path / "a").string(), "--quiet", "--force"});
  CHECK(forced.out.find("2 points (2 run, 0 already done)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "a" / "points" / "0002"));

  // A finished point's metrics damaged by hand: refused, naming it (they
  // crashed the results writer: a number read from a missing key).
  const auto metrics = dir.path / "a" / "points" / "0001" / "metrics.json";
  const auto good = testing::read_file(metrics);
  for (
      const char* damaged :
      {"garbage", R"({"policies": 5, "overrides": {}})",
       R"({"point": 1, "seeds": 1, "overrides": {}, "policies": [{"policy": "x", "metrics": {"a": 1}}]})",
       R"({"point": 0, "seeds": 1, "overrides": {}, "policies": []})"}) {
    CAPTURE(damaged);
    dir.write("a/points/0001/metrics.json", damaged);
    const auto r =
        testing::cli({"sweep", other.string(), "--out", (dir.path / "a").string(), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find("0001/metrics.json: not this sweep point's metrics") != std::string::npos);
  }
  dir.write("a/points/0001/metrics.json", good);
  CHECK(testing::cli({"sweep", other.string(), "--out", (dir.path / "a").string(), "--quiet"})
            .status == 0);

  std::filesystem::create_directories(dir.path / "junk");
  dir.write("junk/file.txt", "");
  const auto foreign =
      testing::cli({"sweep", file.string(), "--out", (dir.path / "junk").string(), "--quiet"});
  CHECK(foreign.status == 2);
  CHECK(foreign.err.find("is not a sweep folder") != std::string::npos);

  const auto bad =
      dir.write("bad.json", R"({"base": "quickstart", "grid": {"cluster.num_gpus": [8, 6]}})");
  // A point that cannot run is reported with its error; the others go on.
  const auto r = testing::cli(
      {"sweep", bad.string(), "--out", (dir.path / "c").string(), "--set-nothing-here"});
  CHECK(r.status == 2);  // an unknown option
  const auto partial =
      testing::cli({"sweep", bad.string(), "--out", (dir.path / "c").string(), "--quiet"});
  CHECK(partial.status == 2);
  CHECK(partial.err.find("point 1 (cluster.num_gpus=6)") != std::string::npos);
  CHECK(partial.err.find("1 of 2 points failed") != std::string::npos);
  CHECK(std::filesystem::exists(dir.path / "c" / "points" / "0000" / "metrics.json"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "c" / "points" / "0001"));
  const auto csv = testing::read_file(dir.path / "c" / "results.csv");
  CHECK(csv.starts_with("point,cluster.num_gpus,error,"));
  CHECK(csv.find("\n1,6,") != std::string::npos);
  CHECK(csv.find("6 GPUs do not divide") != std::string::npos);
  const auto empty = dir.write("e.json", R"({"base": "quickstart", "grid": {}})");
  const auto none = testing::cli({"sweep", empty.string(), "--out", (dir.path / "d").string()});
  CHECK(none.status == 2);
  CHECK(none.err.find("the sweep has no points") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "d"));
}

TEST_CASE("outside mpirun the rank group is this process alone") {
  const auto group = RankGroup::world();
  CHECK(group.size() == 1);
  CHECK(group.leader());
  CHECK(group.broadcast("x") == "x");
  CHECK(group.gather("y") == std::vector<std::string>{"y"});
  const auto counter = group.make_counter();
  CHECK(counter->next() == 0);
  CHECK(counter->next() == 1);
}
