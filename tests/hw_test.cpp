// Real-hardware mode above the devices (hw/), tested without a GPU: modelled
// GPUs stand in for the CUDA backend.
#include <doctest/doctest.h>

#include <sstream>

#include "fixtures.h"
#include "hw/calibration.h"
#include "hw/hardware_backend.h"
#include "hw/validation.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "models/gpu_latency_profile.h"
#include "policies/policy_registry.h"
#include "sim/layer_study.h"
#include "sim/moe_layer_step.h"

using namespace vibesim;

namespace {

// Virtual GPU v runs as modelled GPU v % devices, as the CUDA backend maps them.
class MultiplexedModelExecutor final : public LayerExecutor {
 public:
  MultiplexedModelExecutor(const std::vector<GpuKernelModel>& devices, int num_virtual_gpus) {
    for (int v = 0; v < num_virtual_gpus; ++v)
      gpus_.push_back(devices[static_cast<std::size_t>(
          device_of_virtual_gpu(v, static_cast<int>(devices.size())))]);
  }
  void run(const LayerWork& work, std::span<double> compute_ns) override {
    ModelledExecutor(gpus_).run(work, compute_ns);
  }

 private:
  std::vector<GpuKernelModel> gpus_;
};

// Two modelled "devices", the second 20 % slower in memory.
class ModelledBackend final : public HardwareBackend {
 public:
  explicit ModelledBackend(const MoeModel& model, const GpuSku& sku) {
    GpuVariation slow;
    slow.memory_factor = 1 / 1.2;
    gpus_.emplace_back(sku, GpuVariation{}, model);
    gpus_.emplace_back(sku, slow, model);
  }
  std::vector<DeviceInfo> devices() override {
    return {{"modelled-0", "0.0", "0000:00:00.0", 0, 80ull << 30, 80ull << 30},
            {"modelled-1", "0.0", "0000:01:00.0", 0, 80ull << 30, 80ull << 30}};
  }
  DeviceTelemetry telemetry(int) override { return {}; }
  std::unique_ptr<LayerExecutor> make_executor(const DeviceMemoryPlan&, int num_virtual_gpus,
                                               int) override {
    return std::make_unique<MultiplexedModelExecutor>(gpus_, num_virtual_gpus);
  }
  std::vector<GpuKernelModel> gpus_;
};

HardwareFactory modelled_hardware() {
  return [] {
    return std::make_unique<ModelledBackend>(
        load_moe_model(testing::config_dir() / "models" / "deepseek-v3.json"),
        load_gpu_sku(testing::config_dir() / "gpus" / "mi325x.json"));
  };
}

int hw_cli(const std::vector<std::string>& args, std::string& out, std::string& err,
           const HardwareFactory& hardware = modelled_hardware()) {
  std::ostringstream o, e;
  std::vector<std::string> all{"hw"};
  all.insert(all.end(), args.begin(), args.end());
  const int status = run_cli(all, o, e, nullptr, hardware);
  out = o.str();
  err = e.str();
  return status;
}

}  // namespace

TEST_CASE("device memory rule: one weight set per slot, then fewer sets, then a halved FFN") {
  const ExpertShape dsv3{7168, 2048};  // 88,080,384 weight bytes; 2048 tokens: 83,886,080
  const auto roomy = plan_device_memory(dsv3, 32, 2048, 100ull << 30);
  CHECK(roomy.weight_sets == 32);
  CHECK(roomy.intermediate_scale == 1.0);
  CHECK(roomy.note.empty());
  // 1 GiB: 0.8 GiB usable, (858,993,459 - 83,886,080) / 88,080,384 = 8.8 -> 8 sets.
  const auto shared = plan_device_memory(dsv3, 32, 2048, 1ull << 30);
  CHECK(shared.weight_sets == 8);
  CHECK(shared.note == "8 weight sets shared by 32 slots");
  // 200 MiB: 167,772,160 usable; two sets of the half-size FFN (44,040,192 bytes
  // each) and its activations (71,303,168) take 159,383,552.
  const auto halved = plan_device_memory(dsv3, 32, 2048, 200ull << 20);
  CHECK(halved.weight_sets == 2);
  CHECK(halved.shape.intermediate == 1024);
  CHECK(halved.intermediate_scale == 0.5);
  CHECK(halved.bytes() == 159'383'552);
  CHECK_THROWS_AS(plan_device_memory(dsv3, 32, 2048, 1ull << 20), InputError);
  CHECK(plan_device_memory(dsv3, 1, 2048, 1ull << 20 << 10).weight_sets == 1);
}

TEST_CASE("virtual GPUs go round-robin onto devices") {
  CHECK(device_of_virtual_gpu(0, 3) == 0);
  CHECK(device_of_virtual_gpu(5, 2) == 1);
  CHECK(device_of_virtual_gpu(7, 1) == 0);
}

TEST_CASE(
    "the profiled executor predicts f_g of each GPU's tokens; GPUs beyond the profile reuse it") {
  ProfiledExecutor executor({LatencyCurve({0, 100}, {0, 1000}), LatencyCurve({0, 100}, {0, 2000})});
  const std::vector<std::int32_t> slots{10, 20, 30, 0, 5, 5};
  std::vector<double> ns(3);
  executor.run(LayerWork{3, 2, slots}, ns);
  CHECK(ns[0] == doctest::Approx(300));
  CHECK(ns[1] == doctest::Approx(600));
  CHECK(ns[2] == doctest::Approx(100));  // GPU 2 takes curve 2 % 2 = 0
}

TEST_CASE("a stepper on another executor: compute then barrier, replicas split, no jitter") {
  const auto model = testing::toy_model();
  const auto sku = testing::toy_sku();
  const Topology topology(2, 2, sku.interconnect);
  ProfiledExecutor executor({LatencyCurve({0, 1000}, {0, 1000})});  // 1 ns per token
  // GPU 0 hosts experts 0, 1, 3; GPU 1 expert 2 and second replicas of 0 and 1.
  const Placement placement{2, 3, {{0, 1, 3, 2, 0, 1}, {0, 1, 3, 2, 0, 1}}};
  MoeLayerStepper stepper(model, executor, topology, placement, MoeExchange::kAllReduce);
  const std::vector<std::int32_t> counts{101, 40, 30, 7};
  const auto r = stepper.step(0, counts);
  // Expert 0's 101 tokens split 51 (first replica, GPU 0) + 50; expert 1's 40 as 20 + 20.
  CHECK(r.gpus[0].tokens == 51 + 20 + 7);
  CHECK(r.gpus[1].tokens == 30 + 50 + 20);
  CHECK(r.gpus[1].compute_ns == doctest::Approx(100));
  CHECK(r.gpus[0].idle_ns == doctest::Approx(22));
  CHECK(r.layer.ns() == 100);
  CHECK(r.straggler_gpu == 1);
}

TEST_CASE("relative errors: percentiles of the magnitude, signed mean, zero measurements skipped") {
  const std::vector<double> predicted{110, 90, 100, 5};
  const std::vector<double> measured{100, 100, 100, 0};
  const auto e = relative_errors(predicted, measured);
  CHECK(e.count == 3);
  CHECK(e.p50 == doctest::Approx(0.1));  // sorted magnitudes 0, 0.1, 0.1
  CHECK(e.p90 == doctest::Approx(0.1));
  CHECK(e.mean_signed == doctest::Approx(0.0));
}

TEST_CASE(
    "validation reports when the predicted ordering of policies disagrees with the measured") {
  auto replay = [](const std::string& policy, std::vector<double> layer_ns) {
    Replay r{policy, {}};
    for (const double ns : layer_ns) r.steps.push_back({0, 0, ns, {ns, ns / 2}});
    return r;
  };
  const std::vector<Replay> measured{replay("a", {100, 100}), replay("b", {200, 200})};
  const std::vector<Replay> agreeing{replay("a", {110, 90}), replay("b", {190, 210})};
  const std::vector<Replay> swapped{replay("a", {210, 210}), replay("b", {200, 200})};
  const auto good = validate_replays(measured, agreeing);
  CHECK(good.ordering_agrees());
  CHECK(good.policies[0].layer.p50 == doctest::Approx(0.1));
  CHECK(good.policies[0].gpu.size() == 2);
  const auto bad = validate_replays(measured, swapped);
  CHECK_FALSE(bad.ordering_agrees());
  CHECK(bad.predicted_order == std::vector<std::string>{"b", "a"});
  CHECK(bad.to_json()["ordering"]["agrees"] == false);
}

TEST_CASE("calibration on modelled devices measures their f_g and writes a profile place reads") {
  const auto model = testing::toy_model();
  const auto sku = testing::toy_sku();
  ModelledBackend backend(model, sku);
  CalibrationSpec spec{ExpertShape::of(model), 2, {0, 100, 400}, 0.0, 3};
  std::vector<std::string> lines;
  const auto c = calibrate(backend, spec, [&](const std::string& l) { lines.push_back(l); });
  REQUIRE(c.devices.size() == 2);
  for (std::size_t d = 0; d < 2; ++d)
    for (std::size_t i = 0; i < spec.tokens.size(); ++i)
      CHECK(c.devices[d].latency_ns[i] ==
            doctest::Approx(backend.gpus_[d].duration_ns(ExpertBatch::spread_evenly(
                static_cast<std::int64_t>(spec.tokens[i]), 2, backend.gpus_[d].tile_mask()))));
  CHECK(c.devices[1].latency_ns[2] > c.devices[0].latency_ns[2]);  // the slower device
  CHECK(lines.size() == 1 + 2 * spec.tokens.size());
  testing::TempDir dir("hw-calibration");
  const auto file = dir.write("profile.json", c.profile_json().dump());
  const auto curves = read_gpu_latency_profile(file);
  REQUIRE(curves.size() == 2);
  CHECK(curves[1].latency_ns(400) == doctest::Approx(c.devices[1].latency_ns[2]));
  CHECK(c.profile_json()["hardware"]["devices"][1]["name"] == "modelled-1");
}

TEST_CASE("default calibration sweep: 0, then geometric from 64 to the maximum") {
  const auto t = default_calibration_tokens(4096, 8);
  CHECK(t.front() == 0);
  CHECK(t[1] == 64);
  CHECK(t.back() == 4096);
  CHECK(t.size() == 8);
  CHECK(std::is_sorted(t.begin(), t.end()));
}

TEST_CASE("vibesim hw without a GPU exits 3 with one line") {
  std::string out, err;
  const HardwareFactory none = []() -> std::unique_ptr<HardwareBackend> {
    throw NoDevice("hw: no CUDA device visible");
  };
  CHECK(hw_cli({"devices"}, out, err, none) == 3);
  CHECK(err == "vibesim: hw: no CUDA device visible\n");
  testing::TempDir dir("hw-none");
  CHECK(hw_cli({"calibrate", "-o", (dir.path / "p.json").string()}, out, err, none) == 3);
  CHECK_FALSE(std::filesystem::exists(dir.path / "p.json"));
}

TEST_CASE("vibesim hw refuses bad options with exit 2 before touching a GPU") {
  std::string out, err;
  const HardwareFactory untouchable = []() -> std::unique_ptr<HardwareBackend> {
    FAIL("the GPUs were opened");
    return nullptr;
  };
  CHECK(hw_cli({"calibrate"}, out, err, untouchable) == 2);
  CHECK(hw_cli({"calibrate", "-o", "x.json", "--tokens", "5,3"}, out, err, untouchable) == 2);
  CHECK(err.find("--tokens '5,3'") != std::string::npos);
  CHECK(hw_cli({"calibrate", "-o", "x.json", "--tokens", "1,2x"}, out, err, untouchable) == 2);
  const auto quickstart = (testing::config_dir() / "experiments" / "quickstart.json").string();
  CHECK(hw_cli({"replay", quickstart, "--policy", "nonesuch"}, out, err, untouchable) == 2);
  CHECK(hw_cli({"validate", quickstart}, out, err, untouchable) == 2);
  CHECK(err.find("--profile") != std::string::npos);
  CHECK(hw_cli({"frobnicate"}, out, err, untouchable) == 2);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("hw calibrate, replay and validate end to end on modelled devices") {
  testing::TempDir dir("hw-end-to-end");
  const auto profile = (dir.path / "profile.json").string();
  const auto quickstart = (testing::config_dir() / "experiments" / "quickstart.json").string();
  std::string out, err;
  REQUIRE(hw_cli({"calibrate", "-o", profile, "--warmup-s", "0", "--repetitions", "1",
                  "--max-tokens", "65536", "--experts-per-gpu", "32"},
                 out, err) == 0);
  CHECK(read_gpu_latency_profile(profile).size() == 2);

  REQUIRE(hw_cli({"replay", quickstart, "--policy", "eplb", "--profile", profile, "--iterations",
                  "1", "--warmup-s", "0", "--out", (dir.path / "replay").string()},
                 out, err) == 0);
  CHECK(out.find("time-multiplexing, virtual GPU v on device v % 2") != std::string::npos);
  std::ifstream layers(dir.path / "replay" / "layers.csv");
  const auto rows = std::count(std::istreambuf_iterator<char>(layers), {}, '\n');
  CHECK(rows == 1 + 58);  // header + one iteration of DeepSeek-V3's 58 MoE layers
  CHECK(std::filesystem::exists(dir.path / "replay" / "replay.json"));

  REQUIRE(hw_cli({"validate", quickstart, "--profile", profile, "--iterations", "1", "--warmup-s",
                  "0", "--policies", "static", "eplb", "--out", (dir.path / "validation").string()},
                 out, err) == 0);
  const auto v = read_json_file(dir.path / "validation" / "validation.json");
  REQUIRE(v["policies"].size() == 2);
  // The profile was measured on the same modelled devices, with tokens spread
  // evenly over 32 experts; the replayed layers spread them unevenly (Zipf
  // routing), so the prediction is close but not exact.
  for (const auto& p : v["policies"]) {
    CHECK(p["layer_relative_error"]["count"] == 58);
    CHECK(p["layer_relative_error"]["abs_p50"].template get<double>() < 0.05);
    CHECK(p["gpu_relative_error"].size() == 8);
  }
  CHECK(v["ordering"]["measured"].size() == 2);
}

TEST_CASE("cluster.latency_profile: measured curves time the experts and are what policies see") {
  testing::TempDir dir("hw-measured-run");
  // Two devices: 1 and 2 ns per token-expert assignment; 8 GPUs take them in turn.
  const auto profile = dir.write("profile.json", R"({"gpu_latency": [
      {"tokens": [0, 1e6], "latency_ns": [0, 1e6]},
      {"tokens": [0, 1e6], "latency_ns": [0, 2e6]}]})");
  const auto quickstart = testing::config_dir() / "experiments" / "quickstart.json";
  const std::vector<std::string> overrides{"cluster.latency_profile=\"" + profile.string() + "\"",
                                           "workload.iterations=1"};
  const auto x = load_experiment(quickstart, overrides, ConfigLocations::from_environment(),
                                 PolicyRegistry::builtin());
  REQUIRE(x.cluster.measured_latency.size() == 2);
  std::vector<double> ns_per_token(8, 0);
  int steps = 0;
  const auto result = run_layer_study(x, PolicyRegistry::builtin(), [&](const LayerRow& row) {
    ++steps;
    for (std::size_t g = 0; g < row.step.gpus.size(); ++g)
      ns_per_token[g] =
          std::max(ns_per_token[g], row.step.gpus[g].compute_ns / row.step.gpus[g].tokens);
  });
  CHECK(steps > 0);
  for (std::size_t g = 0; g < 8; ++g) {
    CHECK(result.gpu_latency[g].latency_ns(1000) == doctest::Approx(g % 2 == 0 ? 1000 : 2000));
    // The variability profile's kernel jitter (CV 0.005) stays on top of the measured time.
    CHECK(ns_per_token[g] == doctest::Approx(g % 2 == 0 ? 1.0 : 2.0).epsilon(0.05));
  }
  // config.resolved.json carries the curves inline and loads back to the same experiment.
  const auto resolved = dir.write("resolved.json", x.to_json().dump());
  const auto again =
      load_experiment(resolved, {}, ConfigLocations::from_environment(), PolicyRegistry::builtin());
  CHECK(again.to_json() == x.to_json());
  // A malformed profile names the key inside the experiment.
  const std::vector<std::string> bad{
      R"(cluster.latency_profile={"gpu_latency": [{"tokens": [1]}]})"};
  try {
    (void)load_experiment(quickstart, bad, ConfigLocations::from_environment(),
                          PolicyRegistry::builtin());
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("cluster.latency_profile.gpu_latency[0]") !=
          std::string::npos);
  }
}
