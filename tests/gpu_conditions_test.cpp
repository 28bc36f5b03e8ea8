// GPU speed changing during a run: throttle events, thermal drift, stale profiles.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/statistics.h"
#include "fixtures.h"
#include "sim/gpu_conditions.h"
#include "tools/cli.h"

using namespace vibesim;

TEST_CASE("a throttle event slows its GPU from its time on and a recovery undoes it") {
  const auto ms = [](double t) { return SimTime::from_ns(static_cast<std::int64_t>(t * 1e6)); };
  GpuConditions c(3, ThermalDriftSpec{}, ThermalStateSpec{}, {{1, ms(20), 0.0}, {1, ms(10), 15.0}},
                  1);
  CHECK(c.at(ms(5)) == std::vector<double>{1.0, 1.0, 1.0});
  CHECK_FALSE(c.any_event_applied());
  CHECK(c.at(ms(10))[1] == doctest::Approx(1.15));
  CHECK(c.any_event_applied());
  CHECK(c.at(ms(19))[0] == 1.0);
  CHECK(c.at(ms(20))[1] == doctest::Approx(1.0));
}

TEST_CASE("thermal drift keeps its stationary spread and reverts over its time constant") {
  constexpr int kGpus = 4000;
  GpuConditions c(kGpus, ThermalDriftSpec{0.02, 10.0}, ThermalStateSpec{}, {}, 7);
  const auto spread = [](const std::vector<double>& m) { return population_stddev(m); };
  const auto start = c.at(SimTime{});
  CHECK(spread(start) == doctest::Approx(0.02).epsilon(0.05));
  // After one time constant the correlation with the start is e^-1.
  const auto later = c.at(SimTime::from_ns(10'000'000'000));
  CHECK(spread(later) == doctest::Approx(0.02).epsilon(0.05));
  std::vector<double> a(start), b(later);
  CHECK(pearson_correlation(a, b) == doctest::Approx(std::exp(-1.0)).epsilon(0.1));
}

TEST_CASE("a thermal state: GPUs that wait cool and speed up, busy ones stay as profiled") {
  const auto s = [](double t) { return SimTime::from_ns(static_cast<std::int64_t>(t * 1e9)); };
  const auto span = [](double t) {
    return SimDuration::from_ns(static_cast<std::int64_t>(t * 1e9));
  };
  // At full heat kernels take 1.1x a cold GPU's time; the profile was taken hot.
  GpuConditions c(3, ThermalDriftSpec{}, ThermalStateSpec{0.1, 1.0}, {}, 1);
  CHECK(c.heats());
  CHECK(c.at(s(0)) == std::vector<double>{1.0, 1.0, 1.0});
  // For one time constant GPU 0 computes all the time, GPU 1 half, GPU 2 never.
  c.ran(s(0), span(1), std::vector<double>{1e9, 0.5e9, 0});
  const auto m = c.at(s(1));
  const double e = std::exp(-1.0);
  CHECK(m[0] == doctest::Approx(1.0));
  CHECK(m[1] == doctest::Approx((1 + 0.1 * (0.5 + 0.5 * e)) / 1.1));
  CHECK(m[2] == doctest::Approx((1 + 0.1 * e) / 1.1));
  // An idle gap of one time constant before the next span cools every GPU by e^-1.
  c.ran(s(2), span(0), std::vector<double>{0, 0, 0});
  CHECK(c.at(s(2))[0] == doctest::Approx((1 + 0.1 * e) / 1.1));

  GpuConditions off(2, ThermalDriftSpec{}, ThermalStateSpec{}, {}, 1);
  CHECK_FALSE(off.heats());
  off.ran(s(0), span(1), std::vector<double>{0, 0});
  CHECK(off.at(s(1)) == std::vector<double>{1.0, 1.0});
}

TEST_CASE("a stale profile costs latency after a throttle and re-profiling recovers it") {
  testing::TempDir dir("cli-throttle");
  const auto after_event_p50 = [&](const std::string& reprofile) {
    std::ostringstream out, err;
    const auto run_dir = dir.path / ("run-" + reprofile);
    const int status =
        run_cli({"run", (testing::config_dir() / "experiments" / "throttle.json").string(),
                 "--quiet", "--out", run_dir.string(), "--set", "workload.iterations=20", "--set",
                 "workload.calibration_batches=5", "--set",
                 R"(gpu_events=[{"gpu":2,"at_ms":300,"slowdown_percent":15}])", "--set",
                 "recalibration.every_k_steps=5", "--set", "recalibration.reprofile=" + reprofile,
                 "--set", R"(policies=["latency_lpt"])"},
                out, err);
    INFO(err.str());
    REQUIRE(status == 0);
    const auto s = nlohmann::json::parse(testing::read_file(run_dir / "summary.json"));
    return s["policies"][0]["layer_latency_after_first_gpu_event_us"]["p50"].get<double>();
  };
  const double stale = after_event_p50("false"), fresh = after_event_p50("true");
  MESSAGE("latency_lpt P50 after GPU 2 throttles 15 %: stale profile ", stale, " us, re-profiled ",
          fresh, " us");
  CHECK(fresh < stale * 0.97);
}
