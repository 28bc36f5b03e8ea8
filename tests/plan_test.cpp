// Capacity planning: the rate a GPU count sustains, the smallest count for a
// rate, the SLO that binds, and the inputs plan refuses.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "fixtures.h"

using namespace vibesim;

namespace {

std::vector<std::string> small_sonnet(std::vector<std::string> args) {
  for (const char* s : {"serving.requests.count=120", "workload.calibration_batches=5",
                        "policies=[\"static\",\"eplb\"]", "serving.frontier.steps=4"})
    args.insert(args.end(), {"--set", s});
  return args;
}

}  // namespace

TEST_CASE("plan --gpus: each policy's sustained rate with an interval and the binding SLO") {
  testing::TempDir dir("plan-gpus");
  const auto experiment = testing::config_dir() / "experiments" / "paper-dsv3-sonnet.json";
  const auto r = testing::cli(small_sonnet({"plan", experiment.string(), "--gpus", "8", "--seeds",
                                            "2", "-o", (dir.path / "plan.json").string()}));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto plan = nlohmann::json::parse(testing::read_file(dir.path / "plan.json"));
  REQUIRE(plan["tried"].size() == 1);
  const auto& eplb = plan["tried"][0]["policies"][1];
  CHECK(eplb["policy"] == "eplb");
  const double per_gpu = eplb["rate_per_gpu"]["mean"];
  CHECK(per_gpu > 0);
  CHECK(eplb["rate_per_s"]["mean"].get<double>() == doctest::Approx(8 * per_gpu));
  CHECK(eplb["rate_per_s"]["ci95"][0].get<double>() <= eplb["rate_per_s"]["mean"].get<double>());
  const auto binding = eplb["binding_slo"].get<std::string>();
  CHECK((binding == "ttft" || binding == "tpot"));
  // The same number as `run --frontier` on the same seeds.
  const auto run =
      testing::cli(small_sonnet({"run", experiment.string(), "--frontier", "--seeds", "2",
                                 "--quiet", "--out", (dir.path / "run").string()}));
  REQUIRE(run.status == 0);
  const auto summary = nlohmann::json::parse(testing::read_file(dir.path / "run" / "summary.json"));
  CHECK(
      summary["policies"][1]["metrics"]["frontier_requests_per_s_per_gpu"]["mean"].get<double>() ==
      doctest::Approx(per_gpu));
}

TEST_CASE("plan --rate: the smallest node multiple that sustains it, per policy") {
  testing::TempDir dir("plan-rate");
  const auto experiment = testing::config_dir() / "experiments" / "paper-dsv3-sonnet.json";
  const auto at8 = testing::cli(small_sonnet(
      {"plan", experiment.string(), "--gpus", "8", "-o", (dir.path / "p8.json").string()}));
  REQUIRE(at8.status == 0);
  const auto p8 = nlohmann::json::parse(testing::read_file(dir.path / "p8.json"));
  const double eplb_at_8 = p8["tried"][0]["policies"][1]["rate_per_s"]["mean"];
  // Asking for a little more than 8 GPUs sustain needs the next node count (16).
  const auto r = testing::cli(
      small_sonnet({"plan", experiment.string(), "--rate", std::to_string(eplb_at_8 * 1.01),
                    "--max-gpus", "16", "-o", (dir.path / "p.json").string()}));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto plan = nlohmann::json::parse(testing::read_file(dir.path / "p.json"));
  CHECK(plan["tried"][0]["gpus"] == 8);
  const auto& answers = plan["answers"];
  CHECK(answers[1]["policy"] == "eplb");
  if (plan["tried"].size() == 2 &&
      plan["tried"][1]["policies"][1]["rate_per_s"]["mean"].get<double>() >= eplb_at_8 * 1.01)
    CHECK(answers[1]["smallest_gpus"] == 16);
  else
    CHECK(answers[1]["smallest_gpus"].is_null());
  CHECK(r.out.find("to sustain") != std::string::npos);
}

TEST_CASE("plan refuses a layer study, a replayed trace and a missing choice") {
  const auto quickstart = testing::config_dir() / "experiments" / "quickstart.json";
  const auto layer = testing::cli({"plan", quickstart.string(), "--gpus", "8"});
  CHECK(layer.status == 2);
  CHECK(layer.err.find("plan needs a serving experiment") != std::string::npos);
  const auto neither = testing::cli({"plan", quickstart.string()});
  CHECK(neither.status == 2);
  CHECK(neither.err.find("give exactly one of --rate R (> 0) and --gpus G (> 0)") !=
        std::string::npos);
  const auto replay = testing::cli(
      {"plan", (testing::config_dir() / "experiments" / "azure-code-replay.json").string(),
       "--gpus", "8"});
  CHECK(replay.status == 2);
}
