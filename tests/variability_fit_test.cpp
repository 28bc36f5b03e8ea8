// `vibesim profile fit`: per-GPU medians, relative times, the summary, errors,
// and the shipped V100 profile against the measured data it came from.
#include <doctest/doctest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "models/variability_fit.h"
#include "tools/cli.h"

using namespace vibesim;
using testing::cli;

namespace {

// GPU medians 20, 22 and 18 -> r = 1.0, 1.1, 0.9; two rows of c have no usable time.
constexpr const char* kSmallFleet =
    "uuid,perf,freq\n"
    "a,10,1400\n"
    "a,30,1400\n"
    "a,20,1400\n"
    "b,22,1300\n"
    "c,18,1500\n"
    "c,,1500\n"
    "c,fast,1500\n";

}  // namespace

TEST_CASE("profile fit: medians per GPU, r_g against the median GPU, the summary by hand") {
  testing::TempDir dir("fit-small");
  const auto csv = dir.write("fleet.csv", kSmallFleet);
  VariabilityFitColumns columns{"uuid", "perf", "freq", {}, {}};
  const auto fit = fit_variability(csv, columns);
  CHECK(fit.rows_used == 5);
  CHECK(fit.rows_skipped == 2);
  CHECK(fit.gpu_ids == std::vector<std::string>{"a", "b", "c"});
  CHECK(fit.reference_time == doctest::Approx(20));
  CHECK(fit.relative_time[1] == doctest::Approx(1.1));
  CHECK(fit.p05 == doctest::Approx(0.91));  // 0.9 + 0.1 * (1.0 - 0.9)
  CHECK(fit.p50 == doctest::Approx(1.0));
  CHECK(fit.p95 == doctest::Approx(1.09));
  CHECK(fit.max_over_min == doctest::Approx(1.1 / 0.9));
  CHECK(fit.cv == doctest::Approx(std::sqrt(0.02 / 3)));
  REQUIRE(fit.side.size() == 1);
  CHECK(fit.side[0].correlation_with_relative_time == doctest::Approx(-1.0));

  const auto out = dir.path / "fleet-profile.json";
  const auto r = cli({"profile", "fit", csv.string(), "--gpu-col", "uuid", "--time-col", "perf",
                      "--clock-col", "freq", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("3 GPUs, 5 rows used, 2 skipped") != std::string::npos);
  const auto j = nlohmann::json::parse(testing::read_file(out));
  std::vector<std::string> keys;
  for (const auto& [key, _] : j["summary"].items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"cv", "gpus", "max_over_min", "p05", "p50", "p95"});
  CHECK(j["summary"]["gpus"] == 3);
  const auto& per_gpu = j["measured"]["per_gpu"];
  REQUIRE(per_gpu.size() == 3);
  CHECK(per_gpu[1]["gpu"] == "b");
  CHECK(per_gpu[1]["median_time"] == 22.0);
  CHECK(per_gpu[1]["freq"] == 1300.0);
  CHECK(per_gpu[2]["relative_time"].get<double>() == doctest::Approx(0.9));

  SUBCASE("the fitted profile drives a run: GPUs differ by their relative time") {
    const auto run =
        cli({"run", "--quiet", "--out", (dir.path / "run").string(), "--set",
             "cluster.profile=" + out.string(), "--set", "workload.iterations=1", "--set",
             "workload.calibration_batches=2", "--set", "policies=[\"static\"]"});
    INFO(run.err);
    REQUIRE(run.status == 0);
    const auto summary =
        nlohmann::json::parse(testing::read_file(dir.path / "run" / "summary.json"));
    double lo = 10, hi = 0;
    for (const auto& g : summary["gpus"]) {
      lo = std::min(lo, g["balanced_kernel_time_rel"].get<double>());
      hi = std::max(hi, g["balanced_kernel_time_rel"].get<double>());
    }
    CHECK(hi / lo > 1.05);
    CHECK(hi / lo <= 1.1 / 0.9 + 1e-9);
  }
}

TEST_CASE("profile fit rejects a missing column, no numeric rows and a single GPU") {
  testing::TempDir dir("fit-bad");
  const auto out = dir.path / "p.json";
  const auto expect = [&](const std::string& file, const std::string& text,
                          const std::string& expected) {
    const auto csv = dir.write(file, text);
    const auto r = cli({"profile", "fit", csv.string(), "--gpu-col", "uuid", "--time-col", "perf",
                        "-o", out.string()});
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  };
  expect("nocol.csv", "uuid,time\na,1\n", "nocol.csv:1: no column 'perf' in the header");
  expect("nonum.csv", "uuid,perf\na,\nb,x\n", "nonum.csv: no row has a number in column 'perf'");
  expect("one.csv", "uuid,perf\na,1\na,2\n", "one.csv: only one GPU ('a')");
}

TEST_CASE("the shipped v100 longhorn profile is what profile fit derives from the SC'22 data") {
  const auto csv = testing::data_dir() / "variability" / "longhorn-v100" / "sgemm-longhorn-agg.csv";
  REQUIRE_MESSAGE(std::filesystem::exists(csv), csv.string(), " is missing: data/ ships it");
  const auto fit = fit_variability(csv, {"uuid", "perf", "freq", "pwr", "temp"});
  CHECK(fit.gpu_ids.size() == 392);
  CHECK(fit.rows_used == 11087);
  // The data README: per-GPU median spread p95/p5 ~ 1.054, max/min ~ 1.26.
  CHECK(fit.p95 / fit.p05 == doctest::Approx(1.054).epsilon(0.002));
  CHECK(fit.max_over_min == doctest::Approx(1.26).epsilon(0.01));
  CHECK(fit.side[0].correlation_with_relative_time < -0.8);  // slower GPUs clock lower
  const auto shipped = nlohmann::json::parse(
      testing::read_file(testing::config_dir() / "gpus" / "v100.json"))["profiles"]["longhorn"];
  CHECK(shipped["summary"]["p05"].get<double>() == doctest::Approx(fit.p05));
  CHECK(shipped["summary"]["p95"].get<double>() == doctest::Approx(fit.p95));
  CHECK(shipped["summary"]["cv"].get<double>() == doctest::Approx(fit.cv));
}

TEST_CASE("the MI325X and MI300X default profiles reproduce the paper's clocks and power") {
  for (const std::string gpu : {"mi325x", "mi300x"}) {
    const auto r = cli({"profile", "check", gpu});
    INFO(r.out, r.err);
    REQUIRE(r.status == 0);
    // Each row: label, model "lo - hi", target "lo - hi".
    const auto model_range = [&](const std::string& label) {
      const auto at = r.out.find(label);
      REQUIRE(at != std::string::npos);
      std::istringstream row(r.out.substr(at + label.size()));
      double lo = 0, hi = 0;
      std::string dash;
      row >> lo >> dash >> hi;
      return std::pair{lo, hi};
    };
    const auto prefill_clock = model_range("prefill MoE kernel: clock / peak");
    CHECK(prefill_clock.first >= 0.72);
    CHECK(prefill_clock.second <= 0.79);
    const auto decode_clock = model_range("decode MoE kernel: clock / peak");
    CHECK(decode_clock.first >= 0.97);
    const auto decode_power = model_range("decode MoE kernel: power / TDP");
    CHECK(decode_power.first >= 0.41);
    CHECK(decode_power.second <= 0.47);
    const auto spread = model_range("prefill kernel time at balanced load / mean");
    CHECK(spread.second / spread.first <= (gpu == "mi325x" ? 1.07 : 1.035));
    CHECK(spread.second / spread.first >= 1.01);
  }
}

TEST_CASE("profile fit refuses a GPU no profile can describe instead of writing one run refuses") {
  testing::TempDir dir("fit-extreme");
  const auto csv = dir.write("fleet.csv",
                             "uuid,perf\na,10\na,10\nb,10\nb,10\nc,10\nd,500\n");  // d: 50x
  const auto out = dir.path / "p.json";
  const auto r = testing::cli({"profile", "fit", csv.string(), "--gpu-col", "uuid", "--time-col",
                               "perf", "-o", out.string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("GPU 'd' takes 50 x the median GPU's time, outside the [0.05, 20]") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}
