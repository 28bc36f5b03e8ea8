// `vibesim hw devices|calibrate|replay|validate`: real-hardware mode
// (docs/validation.md). Everything above the devices lives in hw/; this file
// reads the options, opens the GPUs and writes the outputs.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include "base/statistics.h"
#include "hw/calibration.h"
#include "hw/replay.h"
#include "hw/validation.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/run_directory.h"
#include "models/gpu_latency_profile.h"
#include "outputs/layer_study_outputs.h"
#include "tools/cli.h"

namespace vibesim {

namespace {

namespace po = boost::program_options;

constexpr const char* kUsage = R"(usage: vibesim hw <devices|calibrate|replay|validate> [options]

Real-hardware mode: the same experts, token counts and policies on real GPUs
through CUDA (cuBLAS BF16 GEMMs timed with CUDA events). Exits 3 when no GPU
is usable. 'vibesim hw <command> --help' shows a command's options.
  devices     the visible GPUs, their memory and driver
  calibrate   measure each GPU's latency curve f_g(n) into a profile that
              'place --profile', 'hw replay' and 'hw validate' read
  replay      run an experiment's layer steps under one policy on the GPUs;
              writes layers.csv (as 'vibesim run' does) and replay.json
  validate    replay every policy and predict the same steps from a
              calibrated profile; per-layer error percentiles, per-GPU errors
              and whether the policies' ordering agrees
)";

std::string describe(const DeviceInfo& d) {
  return fmt::format("{} (compute {}, {:.1f} of {:.1f} GiB free, driver {}.{}, PCI {})", d.name,
                     d.compute_capability, static_cast<double>(d.free_bytes) / (1 << 30),
                     static_cast<double>(d.total_bytes) / (1 << 30), d.driver_version / 1000,
                     d.driver_version % 1000 / 10, d.pci_bus_id);
}

int devices_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("vibesim hw devices: the GPUs 'vibesim hw' would use");
  if (!parse_command_line(context, args, options)) return 0;
  const auto backend = context.open_hardware();
  const auto devices = backend->devices();
  for (std::size_t d = 0; d < devices.size(); ++d)
    fmt::print(context.out, "device {}: {}\n", d, describe(devices[d]));
  return 0;
}

std::vector<double> parse_token_list(const std::string& text) {
  std::vector<double> out;
  for (const auto& [item, n] : comma_separated_numbers(text)) {
    if (!(n >= 0) || n > 1e9 || (!out.empty() && !(n > out.back())))
      throw InputError(fmt::format(
          "hw calibrate: --tokens '{}': expected increasing token counts, e.g. 0,256,1024", text));
    out.push_back(std::round(n));
  }
  if (out.size() < 2) throw InputError("hw calibrate: --tokens needs at least two counts");
  return out;
}

int calibrate_command(const CliContext& context, const std::vector<std::string>& args) {
  std::string model_name = "deepseek-v3", tokens_text, output;
  CalibrationSpec spec;
  double max_tokens = 65536;
  int points = 12;
  po::options_description options(
      "vibesim hw calibrate -o PROFILE.json: measure f_g(n) on every visible GPU");
  options.add_options()("model", po::value(&model_name)->default_value(model_name),
                        "model whose expert shape is run (configs/models/)")(
      "experts-per-gpu", po::value(&spec.experts_per_gpu),
      "experts each point's tokens spread over (default: the model's experts / 8)")(
      "tokens", po::value(&tokens_text),
      "per-GPU token-expert assignments to measure, increasing, e.g. 0,512,4096")(
      "max-tokens", po::value(&max_tokens)->default_value(max_tokens),
      "without --tokens: 0, then --points - 1 counts geometric from 64 up to this")(
      "points", po::value(&points)->default_value(points), "without --tokens: sweep points")(
      "warmup-s", po::value(&spec.warmup_s)->default_value(5.0),
      "seconds of the largest point before measuring (steady clocks and temperature)")(
      "repetitions", po::value(&spec.repetitions)->default_value(5),
      "median of this many per point")("output,o", po::value(&output),
                                       "the profile to write (required)");
  if (!parse_command_line(context, args, options)) return 0;
  if (output.empty()) throw InputError("hw calibrate: name the profile to write with -o");
  const auto model =
      load_moe_model(context.locations.config_dir / "models" / (model_name + ".json"));
  spec.shape = ExpertShape::of(model);
  if (spec.experts_per_gpu <= 0)
    spec.experts_per_gpu = static_cast<int>(std::max<std::int64_t>(1, model.routed_experts / 8));
  if (spec.repetitions < 1 || spec.repetitions > 1000 ||
      !(spec.warmup_s >= 0 && spec.warmup_s <= 3600) || points < 3 || points > 200 ||
      !(max_tokens >= 128 && max_tokens <= 1e8))
    throw InputError(
        "hw calibrate: --repetitions 1-1000, --warmup-s 0-3600, --points 3-200, "
        "--max-tokens 128-1e8");
  spec.tokens = tokens_text.empty() ? default_calibration_tokens(max_tokens, points)
                                    : parse_token_list(tokens_text);
  const auto backend = context.open_hardware();
  const auto calibration = calibrate(*backend, spec, [&](const std::string& line) {
    context.checkpoint();
    fmt::print(context.out, "{}\n", line);
  });
  if (!calibration.plan.note.empty())
    fmt::print(context.out, "memory rule applied: {}\n", calibration.plan.note);
  write_file_atomically(output, calibration.profile_json().dump(2) + "\n");
  fmt::print(context.out, "profile: {}\n", output);
  return 0;
}

// What replay and validate share: the experiment, the GPUs and the executor.
struct HardwareRun {
  Experiment experiment;
  std::unique_ptr<HardwareBackend> backend;
  DeviceMemoryPlan plan;
  std::unique_ptr<LayerExecutor> executor;
};

HardwareRun open_hardware_run(const CliContext& context, const std::string& experiment_path,
                              const std::vector<std::string>& overrides) {
  HardwareRun run{load_experiment(experiment_path, overrides, context.locations, context.registry),
                  context.open_hardware(),
                  {},
                  {}};
  const auto& x = run.experiment;
  const auto devices = run.backend->devices();
  for (std::size_t d = 0; d < devices.size(); ++d)
    fmt::print(context.out, "device {}: {}\n", d, describe(devices[d]));
  if (static_cast<int>(devices.size()) < x.cluster.num_gpus)
    fmt::print(context.out,
               "{} needs {} GPUs and {} are visible: time-multiplexing, virtual GPU v on device "
               "v % {}, each virtual GPU's work timed on its own\n",
               x.source, x.cluster.num_gpus, devices.size(), devices.size());
  const int slots = static_cast<int>(x.model.routed_experts) / x.cluster.num_gpus +
                    x.cluster.redundant_slots_per_gpu;
  run.plan = plan_device_memory(ExpertShape::of(x.model), slots, x.workload.batch_tokens,
                                least_free_bytes(devices));
  if (!run.plan.note.empty()) fmt::print(context.out, "memory rule applied: {}\n", run.plan.note);
  run.executor = run.backend->make_executor(run.plan, x.cluster.num_gpus, slots);
  return run;
}

struct ReplayArguments {
  std::string experiment_path, profile_path, out_dir;
  std::vector<std::string> overrides, policies;
  ReplaySpec spec;
};

po::options_description replay_options(const std::string& caption, ReplayArguments& a) {
  po::options_description options(caption);
  options.add_options()("profile", po::value(&a.profile_path),
                        "a calibrated profile (hw calibrate) the policies place with")(
      "iterations", po::value(&a.spec.iterations),
      "passes over the MoE layers (default: the experiment's workload.iterations)")(
      "warmup-s", po::value(&a.spec.warmup_s)->default_value(5.0),
      "seconds of the first step before timing")(
      "set", po::value(&a.overrides), "override an experiment key, as 'vibesim run --set'")(
      "out", po::value(&a.out_dir), "output folder (must not exist or be empty)");
  return options;
}

void check_replay_arguments(ReplayArguments& a, const std::string& command) {
  if (a.experiment_path.empty())
    throw InputError(fmt::format("hw {}: name an experiment", command));
  if (a.spec.iterations < 0 || a.spec.iterations > 1'000'000 ||
      !(a.spec.warmup_s >= 0 && a.spec.warmup_s <= 3600))
    throw InputError(fmt::format("hw {}: --iterations 0-1e6, --warmup-s 0-3600", command));
  if (!a.profile_path.empty()) a.spec.profile = read_gpu_latency_profile(a.profile_path);
}

nlohmann::ordered_json replay_summary_json(const HardwareRun& run, const Replay& replay) {
  std::vector<double> layer_us;
  for (const auto& s : replay.steps) layer_us.push_back(s.layer_ns * 1e-3);
  std::sort(layer_us.begin(), layer_us.end());
  nlohmann::ordered_json devices = nlohmann::ordered_json::array();
  for (const auto& d : run.backend->devices()) devices.push_back(describe(d));
  return {{"experiment", run.experiment.name},
          {"policy", replay.policy},
          {"devices", devices},
          {"virtual_gpus", run.experiment.cluster.num_gpus},
          {"memory_rule", run.plan.note},
          {"layer_steps", layer_us.size()},
          {"latency_mean_us", mean(layer_us)},
          {"latency_p50_us", quantile_sorted(layer_us, 0.5)},
          {"latency_p90_us", quantile_sorted(layer_us, 0.9)},
          {"latency_p99_us", quantile_sorted(layer_us, 0.99)}};
}

int replay_command(const CliContext& context, const std::vector<std::string>& args) {
  ReplayArguments a;
  auto options = replay_options(
      "vibesim hw replay EXPERIMENT --policy P: the experiment's layer steps on real GPUs", a);
  options.add_options()("policy", po::value(&a.spec.policy), "the placement policy (required)");
  if (!parse_command_line(context, args, options, "experiment", &a.experiment_path)) return 0;
  a.experiment_path = experiment_argument(context, a.experiment_path);
  check_replay_arguments(a, "replay");
  if (!context.registry.contains(a.spec.policy))
    throw InputError(fmt::format("hw replay: unknown --policy '{}'", a.spec.policy));
  auto run = open_hardware_run(context, a.experiment_path, a.overrides);
  RunDirectory dir(a.out_dir.empty() ? RunDirectory::next_free("runs", run.experiment.name + "-hw")
                                     : std::filesystem::path(a.out_dir));
  LayersCsv layers(dir.staged("layers.csv"));
  const auto replay = replay_layer_steps(
      run.experiment, replay_cluster(run.experiment, a.spec), context.registry, a.spec,
      *run.executor, [&](const LayerRow& row) { layers.write(row); },
      [&] { context.checkpoint(); });
  layers.close();
  const auto summary = replay_summary_json(run, replay);
  write_file_atomically(dir.staged("replay.json"), summary.dump(2) + "\n");
  dir.commit();
  fmt::print(context.out, "{} layer steps, mean {:.1f} us, P90 {:.1f} us\nrun directory: {}\n",
             replay.steps.size(), summary["latency_mean_us"].get<double>(),
             summary["latency_p90_us"].get<double>(), dir.target().string());
  return 0;
}

void print_validation(std::ostream& out, const Validation& v) {
  fmt::print(out, "\n{:<14} {:>12} {:>12} {:>9} {:>9} {:>9} {:>9}\n", "policy", "measured us",
             "predicted us", "|err| P50", "P90", "P99", "signed");
  for (const auto& p : v.policies)
    fmt::print(out, "{:<14} {:>12.1f} {:>12.1f} {:>8.1f}% {:>8.1f}% {:>8.1f}% {:>+8.1f}%\n",
               p.policy, p.measured_mean_us, p.predicted_mean_us, 100 * p.layer.p50,
               100 * p.layer.p90, 100 * p.layer.p99, 100 * p.layer.mean_signed);
  fmt::print(out, "\nper-GPU compute error, signed mean (P90 of |err|):\n");
  for (const auto& p : v.policies) {
    fmt::print(out, "{:<14}", p.policy);
    for (const auto& g : p.gpu)
      fmt::print(out, " {:+.1f}% ({:.1f}%)", 100 * g.mean_signed, 100 * g.p90);
    fmt::print(out, "\n");
  }
  fmt::print(out, "\nordering, fastest first: measured {}; predicted {}; {}\n",
             fmt::join(v.measured_order, " < "), fmt::join(v.predicted_order, " < "),
             v.ordering_agrees() ? "agrees" : "DISAGREES");
}

int validate_command(const CliContext& context, const std::vector<std::string>& args) {
  ReplayArguments a;
  auto options = replay_options(
      "vibesim hw validate EXPERIMENT --profile PROFILE.json: measured against predicted", a);
  options.add_options()("policies", po::value(&a.policies)->multitoken(),
                        "policies to compare (default: the experiment's)");
  if (!parse_command_line(context, args, options, "experiment", &a.experiment_path)) return 0;
  a.experiment_path = experiment_argument(context, a.experiment_path);
  check_replay_arguments(a, "validate");
  if (a.spec.profile.empty())
    throw InputError("hw validate: name the calibrated profile with --profile (hw calibrate)");
  std::optional<RunDirectory> dir;  // refused before the replays, not after
  if (!a.out_dir.empty()) dir.emplace(a.out_dir);
  auto run = open_hardware_run(context, a.experiment_path, a.overrides);
  if (a.policies.empty()) a.policies = run.experiment.policies;
  std::vector<Replay> measured, predicted;
  ProfiledExecutor profiled(a.spec.profile);
  const auto setup = replay_cluster(run.experiment, a.spec);
  for (const auto& policy : a.policies) {
    if (!context.registry.contains(policy))
      throw InputError(fmt::format("hw validate: unknown policy '{}'", policy));
    fmt::print(context.out, "replaying {}\n", policy);
    auto spec = a.spec;
    spec.policy = policy;
    const auto checkpoint = [&] { context.checkpoint(); };
    measured.push_back(replay_layer_steps(run.experiment, setup, context.registry, spec,
                                          *run.executor, {}, checkpoint));
    spec.warmup_s = 0;
    predicted.push_back(replay_layer_steps(run.experiment, setup, context.registry, spec, profiled,
                                           {}, checkpoint));
  }
  const auto v = validate_replays(measured, predicted);
  print_validation(context.out, v);
  if (dir) {
    write_file_atomically(dir->staged("validation.json"), v.to_json().dump(2) + "\n");
    dir->commit();
    fmt::print(context.out, "run directory: {}\n", dir->target().string());
  }
  return 0;
}

}  // namespace

int hw_command(const CliContext& context, const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "devices") return devices_command(context, rest);
  if (sub == "calibrate") return calibrate_command(context, rest);
  if (sub == "replay") return replay_command(context, rest);
  if (sub == "validate") return validate_command(context, rest);
  if (sub == "--help" || sub == "-h") {
    context.out << kUsage;
    return 0;
  }
  throw InputError(
      fmt::format("hw: {}; valid commands are devices, calibrate, replay, validate "
                  "(vibesim hw --help)",
                  sub.empty() ? "name a command" : "unknown command '" + sub + "'"));
}

}  // namespace vibesim
