// vibesim check: orderings and recorded values that hold pass, ones that do
// not fail with status 4, --update records what was measured, EPLB is held to
// its reference answer, and a malformed baseline is refused.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "fixtures.h"

using namespace vibesim;

namespace {

std::string quickstart_check(const std::string& fields) {
  return R"({"experiment": "quickstart", "set": ["workload.iterations=2",
             "workload.calibration_batches=5"], "seeds": 2, )" +
         fields + "}";
}

std::string baseline(const std::string& checks) {
  return R"({"checks": [)" + checks + "]}";
}

}  // namespace

TEST_CASE("check: an ordering that holds passes, its reverse fails with status 4") {
  testing::TempDir dir("check-order");
  const auto good =
      dir.write("good.json", baseline(quickstart_check(R"("name": "lpt first", "kind": "order",
        "metric": "layer_latency_p90_us", "order": ["latency_lpt", "static"])")));
  auto r = testing::cli({"check", good.string(), "-j", "2"});
  INFO(r.out, r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("pass  lpt first") != std::string::npos);
  const auto bad =
      dir.write("bad.json", baseline(quickstart_check(R"("name": "static first", "kind": "order",
        "metric": "layer_latency_p90_us", "order": ["static", "latency_lpt"])")));
  r = testing::cli({"check", bad.string()});
  CHECK(r.status == 4);
  CHECK(r.out.find("FAIL  static first") != std::string::npos);
  CHECK(r.out.find("0 of 1 checks passed") != std::string::npos);
}

TEST_CASE(
    "check --update records the measured value; the check then passes, and fails outside its "
    "tolerance") {
  testing::TempDir dir("check-update");
  const auto file =
      dir.write("b.json", baseline(quickstart_check(R"("name": "eplb p90", "kind": "value",
        "metric": "layer_latency_p90_us", "policy": "eplb", "recorded": 1, "tolerance": 0.01)")));
  CHECK(testing::cli({"check", file.string()}).status == 4);
  auto r = testing::cli({"check", file.string(), "--update"});
  INFO(r.out, r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("updated eplb p90: 1 -> ") != std::string::npos);
  auto json = nlohmann::json::parse(testing::read_file(file));
  const double recorded = json["checks"][0]["recorded"];
  CHECK(recorded > 100);
  CHECK(testing::cli({"check", file.string()}).status == 0);
  json["checks"][0]["recorded"] = recorded * 1.02;  // 2 % off, tolerance 1 %
  dir.write("b.json", json.dump());
  CHECK(testing::cli({"check", file.string()}).status == 4);
}

TEST_CASE("check: EPLB against a recorded placement") {
  testing::TempDir dir("check-eplb");
  const std::string shape = R"("name": "eplb", "kind": "eplb_reference", "loads": [[8, 1, 1, 1]],
      "replicas": 4, "groups": 1, "nodes": 1, "gpus": 2, "recorded": )";
  auto r = testing::cli(
      {"check", dir.write("a.json", baseline("{" + shape + "[[0, 1, 2, 3]]}")).string()});
  INFO(r.out);
  CHECK(r.status == 4);  // not what EPLB answers
  REQUIRE(testing::cli({"check", dir.path.string() + "/a.json", "--update"}).status == 0);
  CHECK(testing::cli({"check", dir.path.string() + "/a.json"}).status == 0);
}

TEST_CASE("check: a malformed baseline is refused with status 2 naming the key") {
  testing::TempDir dir("check-bad");
  const auto refused = [&](const std::string& text, const std::string& key) {
    const auto r = testing::cli({"check", dir.write("bad.json", text).string()});
    INFO(text, r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("bad.json") != std::string::npos);
    CHECK(r.err.find(key) != std::string::npos);
  };
  refused(baseline(quickstart_check(R"("name": "x", "kind": "vibes", "metric": "m")")),
          "checks[0].kind");
  refused(baseline(quickstart_check(R"("name": "x", "kind": "order", "metric": "m",
                                       "order": ["eplb"])")),
          "checks[0].order");
  refused(baseline(R"({"name": "x", "kind": "value", "experiment": "no-such-experiment",
                       "metric": "m", "policy": "eplb", "recorded": 1})"),
          "checks[0].experiment");
  refused(baseline(""), "checks");
  refused(baseline(quickstart_check(R"("name": "x", "kind": "value", "metric": "no_such_metric",
                                       "policy": "eplb", "recorded": 1)")),
          "checks[0]");
}
