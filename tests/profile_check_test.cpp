#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "fixtures.h"

namespace vibesim {
namespace {

nlohmann::json row_of(const nlohmann::json& report, const std::string& key) {
  for (const auto& row : report["rows"])
    if (row["key"] == key) return row;
  FAIL("no row ", key);
  return {};
}

TEST_CASE("profile check sets the paper's power facts beside the model and says how far off") {
  const auto r = testing::cli({"profile", "check", "mi325x", "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["deployment"] == "tp_ep_all_reduce");
  // The shipped limit is instantaneous: a capped kernel is at the limit all
  // its time, against the paper's 82.8 %.
  const auto at_cap = row_of(report, "moe_time_at_cap_fraction");
  CHECK(at_cap["min"] == 1.0);
  CHECK(at_cap["target"] == nlohmann::json{0.828, 0.828});
  CHECK(at_cap["off_target"].get<double>() == doctest::Approx(1 / 0.828 - 1));
  // Inside its range: 0.
  CHECK(row_of(report, "prefill_clock_fraction")["off_target"] == 0.0);
  // No target given: none computed.
  CHECK(row_of(report, "prefill_power_fraction")["off_target"].is_null());
  // The layer averages include the collectives, so the clock lies above the
  // MoE kernel's.
  CHECK(row_of(report, "prefill_layer_clock_fraction")["min"].get<double>() >
        row_of(report, "prefill_clock_fraction")["max"].get<double>());

  const auto table = testing::cli({"profile", "check", "mi325x"});
  CHECK(table.out.find("+20.8 %") != std::string::npos);  // 1 / 0.828 - 1
  CHECK(table.out.find("in range") != std::string::npos);
}

TEST_CASE("profile check compares only under the deployment its targets were measured in") {
  const auto off_targets = [](const nlohmann::json& report) {
    int compared = 0;
    for (const auto& row : report["rows"]) compared += row["off_target"].is_null() ? 0 : 1;
    return compared;
  };
  const auto other = testing::cli({"profile", "check", "mi325x", "--deployment", "dp_attention"});
  INFO(other.err);
  REQUIRE(other.status == 0);
  CHECK(other.out.find("not compared under dp_attention") != std::string::npos);
  const auto other_json = nlohmann::json::parse(
      testing::cli({"profile", "check", "mi325x", "--deployment", "dp_attention", "--json"}).out);
  CHECK(other_json["targets_deployment"] == "tp_ep_all_reduce");
  CHECK(off_targets(other_json) == 0);
  CHECK(row_of(other_json, "moe_clock_drop")["target"] == nlohmann::json{0.38, 0.38});

  // Targets that name their deployment are compared under it, and only there.
  testing::TempDir dir("profile-check-deployment");
  auto sku =
      nlohmann::json::parse(testing::read_file(testing::config_dir() / "gpus" / "mi325x.json"));
  auto& targets = sku["profiles"]["default"]["calibration_targets"];
  targets["deployment"] = "dp_attention";
  const auto file = dir.write("sku.json", sku.dump()).string();
  const auto own = nlohmann::json::parse(
      testing::cli({"profile", "check", file, "--deployment", "dp_attention", "--json"}).out);
  CHECK(off_targets(own) > 0);
  CHECK(off_targets(
            nlohmann::json::parse(testing::cli({"profile", "check", file, "--json"}).out)) == 0);
  targets["deployment"] = "pipeline";
  const auto bad = dir.write("bad.json", sku.dump()).string();
  const auto refused = testing::cli({"profile", "check", bad});
  CHECK(refused.status == 2);
  CHECK(refused.err.find("calibration_targets.deployment") != std::string::npos);
}

TEST_CASE("profile check: with the windowed limit the spread between GPUs grows with load") {
  // Capped at once (instantaneous limit), the GPUs' power curves spread even a
  // short kernel; under a window a short kernel ends before any GPU reaches
  // the cap, so all run at full clock, and only long kernels spread.
  const auto spread = [](const nlohmann::json& row) {
    return row["max"].get<double>() / row["min"].get<double>();
  };
  testing::TempDir dir("profile-check-window");
  auto sku =
      nlohmann::json::parse(testing::read_file(testing::config_dir() / "gpus" / "mi325x.json"));
  const auto instant = nlohmann::json::parse(
      testing::cli({"profile", "check", dir.write("instant.json", sku.dump()).string(), "--json"})
          .out);
  CHECK(spread(row_of(instant, "kernel_time_rel_64_tokens")) > 1.03);
  CHECK(spread(row_of(instant, "kernel_time_rel_4096_tokens")) > 1.03);
  sku["power"]["limit_window_s"] = 1.341e-3;
  const auto windowed = nlohmann::json::parse(
      testing::cli({"profile", "check", dir.write("windowed.json", sku.dump()).string(), "--json"})
          .out);
  CHECK(spread(row_of(windowed, "kernel_time_rel_64_tokens")) == 1.0);
  CHECK(spread(row_of(windowed, "kernel_time_rel_4096_tokens")) > 1.03);
  CHECK(row_of(windowed, "kernel_time_rel_4096_tokens")["mean"].get<double>() ==
        doctest::Approx(1.0));
}

TEST_CASE("profile check reads a GPU file and measures off-target against the nearer end") {
  testing::TempDir dir("profile-check");
  auto sku =
      nlohmann::json::parse(testing::read_file(testing::config_dir() / "gpus" / "mi325x.json"));
  auto& targets = sku["profiles"]["default"]["calibration_targets"];
  targets = {{"decode_clock_fraction", 0.5},             // the model gives exactly 1: +100 %
             {"balanced_kernel_time_rel", {2.0, 3.0}}};  // relative to the mean, which is 1: -50 %
  const auto file = dir.write("sku.json", sku.dump());
  const auto r = testing::cli({"profile", "check", file.string(), "--json"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(row_of(report, "decode_clock_fraction")["off_target"].get<double>() == 1.0);
  CHECK(row_of(report, "balanced_kernel_time_rel")["off_target"].get<double>() ==
        doctest::Approx(-0.5));
  CHECK(row_of(report, "moe_clock_drop")["target"].is_null());

  SUBCASE("a target that is not a range, or a key no row reads, is refused with file and key") {
    const auto refused = [&](const nlohmann::json& bad, const std::string& expected) {
      auto copy = sku;
      copy["profiles"]["default"]["calibration_targets"] = bad;
      const auto path = dir.write("bad.json", copy.dump());
      const auto b = testing::cli({"profile", "check", path.string()});
      INFO(b.err);
      CHECK(b.status == 2);
      CHECK(b.err.find(path.string()) != std::string::npos);
      CHECK(b.err.find(expected) != std::string::npos);
      CHECK(b.out.empty());
    };
    refused({{"moe_clock_drop", {0.5, 0.1}}},
            "profiles.default.calibration_targets.moe_clock_drop");
    refused({{"moe_clock_dorp", 0.38}}, "moe_clock_dorp");
    refused({{"moe_clock_drop", "high"}}, "profiles.default.calibration_targets.moe_clock_drop");
  }
}

}  // namespace
}  // namespace vibesim
