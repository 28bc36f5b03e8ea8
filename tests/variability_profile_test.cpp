#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "base/statistics.h"
#include "fixtures.h"
#include "io/config_object.h"
#include "models/gpu_kernel_model.h"
#include "models/gpu_sku.h"
#include "models/variability_profile.h"

using namespace vibesim;

TEST_CASE("drawing GPUs from a profile reproduces its distributions and is seeded") {
  VariabilityProfile p;
  p.voltage_offset_v = {ScalarDistribution::Kind::kNormal, 0.01, 0.02, {}};
  p.leakage_factor = {ScalarDistribution::Kind::kLognormal, 1.0, 0.1, {}};
  p.memory_factor = {ScalarDistribution::Kind::kEmpirical, 0, 0, {0.9, 1.0, 1.1}};
  const auto gpus = p.draw(20'000, 42);
  std::vector<double> v, log_leak, mem;
  for (const auto& g : gpus) {
    v.push_back(g.voltage_offset_v);
    log_leak.push_back(std::log(g.leakage_factor));
    mem.push_back(g.memory_factor);
  }
  const double v_mean = mean(v);
  double var = 0;
  for (double x : v) var += (x - v_mean) * (x - v_mean) / static_cast<double>(v.size());
  CHECK(v_mean == doctest::Approx(0.01).epsilon(0.05));
  CHECK(std::sqrt(var) == doctest::Approx(0.02).epsilon(0.03));
  CHECK(quantile(log_leak, 0.5) == doctest::Approx(0.0).epsilon(0.01));
  CHECK(quantile(mem, 0.25) ==
        doctest::Approx(0.95).epsilon(0.01));  // inverse CDF through the quantiles
  CHECK(*std::min_element(mem.begin(), mem.end()) >= 0.9);
  CHECK(p.draw(3, 7)[2].voltage_offset_v == p.draw(3, 7)[2].voltage_offset_v);
  CHECK(p.draw(3, 7)[2].voltage_offset_v != p.draw(3, 8)[2].voltage_offset_v);
}

TEST_CASE(
    "every shipped GPU config loads with a default profile and its DVFS slows compute-bound "
    "kernels") {
  for (const char* name : {"mi325x", "mi300x", "h100", "h200"}) {
    CAPTURE(name);
    const auto sku = load_gpu_sku(testing::config_dir() / "gpus" / (std::string(name) + ".json"));
    REQUIRE(sku.profiles.count("default") == 1);
    ConfigObject c(sku.profiles.at("default"), name, "profiles.default");
    const auto profile = parse_variability_profile(c, "default");
    CHECK(profile.kernel_jitter_cv >= 0);
    const GpuKernelModel gpu(sku, GpuVariation{}, testing::toy_model());
    CHECK(gpu.sustained_clock_fraction(1.0) < 0.95);
    CHECK(gpu.sustained_clock_fraction(sku.power.activity_memory_bound) == 1.0);
  }
}

TEST_CASE("a GPU config whose tile is not a power of two is refused") {
  auto json = read_json_file(testing::config_dir() / "gpus" / "mi325x.json");
  json["kernel"]["tile_tokens"] = 48;
  ConfigObject c(json, "g.json");
  CHECK_THROWS_WITH_AS(parse_gpu_sku(c),
                       "g.json: key 'kernel.tile_tokens': 48 is not a power of two", InputError);
}

TEST_CASE(
    "a profile's thermal state and a GPU's power window parse, round-trip and are range-checked") {
  auto json = nlohmann::json::parse(
      R"({"voltage_offset_v": {"dist": "constant", "value": 0},
          "leakage_factor": {"dist": "constant", "value": 1},
          "memory_factor": {"dist": "constant", "value": 1},
          "thermal_state": {"slowdown_at_full_duty": 0.05, "time_constant_s": 2}})");
  ConfigObject c(json, "p.json");
  const auto p = parse_variability_profile(c, "x");
  CHECK(p.thermal_state.slowdown_at_full_duty == 0.05);
  CHECK(p.thermal_state.time_constant_s == 2);
  const auto back = nlohmann::json::parse(p.to_json().dump());
  CHECK(back["thermal_state"]["slowdown_at_full_duty"] == 0.05);
  json["thermal_state"]["slowdown_at_full_duty"] = 2;
  ConfigObject bad(json, "p.json");
  CHECK_THROWS_WITH(parse_variability_profile(bad, "x"),
                    doctest::Contains("thermal_state.slowdown_at_full_duty"));

  auto sku =
      nlohmann::json::parse(testing::read_file(testing::config_dir() / "gpus" / "mi325x.json"));
  CHECK_FALSE(
      nlohmann::json::parse(
          load_gpu_sku(testing::config_dir() / "gpus" / "mi325x.json").to_json().dump())["power"]
          .contains("limit_window_s"));  // written only when set
  sku["power"]["limit_window_s"] = 2;    // over the 1 s maximum
  testing::TempDir dir("power-window");
  const auto file = dir.write("gpu.json", sku.dump());
  CHECK_THROWS_WITH(load_gpu_sku(file), doctest::Contains("power.limit_window_s"));
}
