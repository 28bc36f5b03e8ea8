// --timeline: a Chrome trace-event file whose per-GPU phases tile each layer
// step, whose serving tracks hold the iterations and requests of the window,
// bounded by --timeline-steps, identical on rerun.
#include <doctest/doctest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "fixtures.h"

using namespace vibesim;

namespace {

nlohmann::json run_timeline(const testing::TempDir& dir, const std::string& name,
                            std::vector<std::string> extra) {
  std::vector<std::string> args{"run",        "--quiet",
                                "--out",      (dir.path / name).string(),
                                "--timeline", (dir.path / (name + ".json")).string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = testing::cli(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(testing::read_file(dir.path / (name + ".json")));
}

}  // namespace

TEST_CASE("timeline of a layer study: each GPU's phases tile every step of the window") {
  testing::TempDir dir("timeline-layers");
  const auto t = run_timeline(dir, "a",
                              {"--timeline-steps", "10", "--set", "workload.iterations=2", "--set",
                               R"(policies=["static","eplb"])"});
  // Per policy and GPU: the phases in order, back to back, each step ending where the next starts.
  std::map<std::pair<int, int>, std::vector<nlohmann::json>> tracks;
  int processes = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e["name"] == "process_name") ++processes;
    if (e["ph"] == "X") tracks[{e["pid"].get<int>(), e["tid"].get<int>()}].push_back(e);
  }
  CHECK(processes == 2);
  REQUIRE(tracks.size() == 2 * 8);
  for (const auto& [track, events] : tracks) {
    int kernels = 0;
    double end = events.front()["ts"].get<double>();
    for (const auto& e : events) {
      CHECK(e["ts"].get<double>() ==
            doctest::Approx(end).epsilon(1e-7));  // steps start on whole ns
      end = e["ts"].get<double>() + e["dur"].get<double>();
      kernels += e["name"] == "expert kernel" ? 1 : 0;
    }
    CHECK(kernels == 10);  // the window: 10 of the 116 steps
  }
  const auto again = run_timeline(dir, "b",
                                  {"--timeline-steps", "10", "--set", "workload.iterations=2",
                                   "--set", R"(policies=["static","eplb"])"});
  CHECK(again == t);
}

TEST_CASE("timeline of a serving run: iterations with their batches, a span pair per request") {
  testing::TempDir dir("timeline-serving");
  const auto experiment = testing::config_dir() / "experiments" / "paper-dsv3-sonnet.json";
  const auto t = run_timeline(
      dir, "s",
      {experiment.string(), "--timeline-steps", "1000000", "--set", "serving.requests.count=12",
       "--set", "workload.calibration_batches=5", "--set", R"(policies=["eplb"])"});
  int iterations = 0, begins = 0, ends = 0, kernels = 0;
  std::int64_t prefill = 0;
  for (const auto& e : t["traceEvents"]) {
    kernels += e["name"] == "expert kernel" ? 1 : 0;
    if (e["name"] == "iteration") {
      ++iterations;
      prefill += e["args"]["prefill_tokens"].get<std::int64_t>();
    }
    begins += e["ph"] == "b" ? 1 : 0;
    ends += e["ph"] == "e" ? 1 : 0;
  }
  CHECK(iterations > 128);      // at least every output token of one request
  CHECK(prefill == 12 * 1024);  // every prompt token, in chunks
  CHECK(begins == 2 * 12);      // queued + prefill, then decode, per request
  CHECK(ends == begins);
  // Every MoE layer of every iteration on at least one GPU (a GPU without tokens has no kernel).
  CHECK(kernels >= 58 * iterations);
  CHECK(kernels <= 8 * 58 * iterations);
}

TEST_CASE("--timeline-steps out of range is refused before anything runs") {
  testing::TempDir dir("timeline-bad");
  const auto r = testing::cli({"run", "--quiet", "--out", (dir.path / "x").string(), "--timeline",
                               (dir.path / "t.json").string(), "--timeline-steps", "0"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--timeline-steps") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "x"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "t.json"));
}
