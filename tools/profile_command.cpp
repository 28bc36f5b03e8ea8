// `vibesim profile fit`: a variability profile from per-run measurements of a GPU fleet.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "base/derived_seed.h"
#include "base/statistics.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "models/gpu_kernel_model.h"
#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "models/variability_fit.h"
#include "models/variability_profile.h"
#include "studies/fidelity.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

int fit_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim profile fit CSV --gpu-col NAME --time-col NAME [options] -o PROFILE.json\n\n"
      "Per GPU the median of its times; r_g = that / the median over GPUs. Writes a profile\n"
      "usable as an experiment's cluster.profile: r_g's empirical quantiles (relative_time),\n"
      "a lognormal fit, and summary {gpus, p05, p50, p95, max_over_min, cv}. Rows whose time\n"
      "is empty or not a number are skipped and counted.\n\noptions");
  std::string csv, out_path, name;
  VariabilityFitColumns columns;
  std::string clock, power, temperature;
  options.add_options()("help,h", "show this help")("gpu-col", po::value(&columns.gpu),
                                                    "column naming the GPU (e.g. uuid)")(
      "time-col", po::value(&columns.time), "column with the run's time (any unit)")(
      "clock-col", po::value(&clock), "optional: clock column (per-GPU median, correlation)")(
      "power-col", po::value(&power), "optional: power column")("temp-col", po::value(&temperature),
                                                                "optional: temperature column")(
      "name", po::value(&name), "profile name (default: the CSV's file name)")(
      "out,o", po::value(&out_path), "profile file to write");
  const auto vm = parse_command_line(context, args, options, "csv", &csv);
  if (!vm) return 0;
  if (csv.empty()) throw InputError("profile fit: the CSV file is required");
  for (const char* required : {"gpu-col", "time-col", "out"})
    if (!vm->count(required))
      throw InputError(fmt::format("profile fit: --{} is required", required));
  if (!clock.empty()) columns.clock = clock;
  if (!power.empty()) columns.power = power;
  if (!temperature.empty()) columns.temperature = temperature;
  if (name.empty()) name = std::filesystem::path(csv).stem().string();
  refuse_output_over_input(out_path, csv);

  const auto fit = fit_variability(csv, columns);
  const auto source =
      fmt::format("vibesim profile fit {} --gpu-col {} --time-col {}",
                  std::filesystem::path(csv).filename().string(), columns.gpu, columns.time);
  const auto profile = variability_profile_json(fit, name, source);
  {
    // What fit writes must load: read it back as `run` will, before writing.
    const nlohmann::json as_read = profile;
    ConfigObject check(as_read, out_path);
    (void)parse_variability_profile(check, name);
  }
  write_file_atomically(out_path, profile.dump(2) + "\n");
  auto& out = context.out;
  fmt::print(out, "{}: {} GPUs, {} rows used, {} skipped (time empty or not a number)\n", csv,
             fit.gpu_ids.size(), fit.rows_used, fit.rows_skipped);
  fmt::print(out,
             "relative time r_g (GPU median / fleet median {:.6g}): p05 {:.4f}  p50 {:.4f}  p95 "
             "{:.4f}  p95/p05 {:.4f}  max/min {:.4f}  cv {:.4f}\n",
             fit.reference_time, fit.p05, fit.p50, fit.p95, fit.p95 / fit.p05, fit.max_over_min,
             fit.cv);
  fmt::print(out, "lognormal fit: sigma {:.4f}; run-to-run cv (median over GPUs) {:.4f}\n",
             fit.lognormal_sigma, fit.run_to_run_cv);
  for (const auto& s : fit.side)
    fmt::print(out, "correlation of r_g with per-GPU median {}: {:+.3f}\n", s.column,
               s.correlation_with_relative_time);
  fmt::print(out, "wrote {}\n", out_path);
  return 0;
}

// The range of `values` as "lo - hi" with `digits` decimals.
std::string range(std::vector<double> values, int digits) {
  std::sort(values.begin(), values.end());
  return fmt::format("{:.{}f} - {:.{}f}", values.front(), digits, values.back(), digits);
}

std::string target(const nlohmann::json& targets, const char* key, int digits) {
  if (!targets.contains(key)) return "-";
  const auto& t = targets[key];
  return fmt::format("{:.{}f} - {:.{}f}", t[0].get<double>(), digits, t[1].get<double>(), digits);
}

int check_profile_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim profile check GPU[/PROFILE] [options]\n\n"
      "Draws a node of GPUs from a profile and prints what the kernel and DVFS model make of\n"
      "them beside the profile's calibration_targets (the paper's measurements, where given):\n"
      "a prefill MoE kernel (balanced 16 x 1024-token batch) and a decode one (256 tokens).\n\n"
      "options");
  std::string gpu_profile, model_name = "deepseek-v3";
  int gpus = 8;
  std::int64_t seed_value = 1;
  options.add_options()("help,h", "show this help")(
      "model", po::value(&model_name)->default_value(model_name), "model whose experts run")(
      "gpus", po::value(&gpus)->default_value(8), "GPUs to draw")(
      "seed", po::value(&seed_value)->default_value(1),
      "experiment seed (GPUs drawn as `run` draws them)");
  const auto vm = parse_command_line(context, args, options, "gpu", &gpu_profile);
  if (!vm) return 0;
  if (gpu_profile.empty()) throw InputError("profile check: name a GPU, e.g. mi325x/default");
  if (gpus < 1 || gpus > 4096) throw InputError("--gpus: must be in [1, 4096]");
  const auto seed = seed_option(seed_value);
  const auto slash = gpu_profile.find('/');
  const auto sku_name = gpu_profile.substr(0, slash);
  const auto profile_name = slash == std::string::npos ? "default" : gpu_profile.substr(slash + 1);
  const auto sku = load_gpu_sku(context.locations.config_dir / "gpus" / (sku_name + ".json"));
  const auto model =
      load_moe_model(context.locations.config_dir / "models" / (model_name + ".json"));
  const auto it = sku.profiles.find(profile_name);
  if (it == sku.profiles.end())
    throw InputError(
        fmt::format("profile check: GPU '{}' has no profile '{}'", sku_name, profile_name));
  ConfigObject config(it->second, sku_name, "profiles." + profile_name);
  const auto profile = parse_variability_profile(config, profile_name);
  const nlohmann::json targets = it->second.value("calibration_targets", nlohmann::json::object());

  if (model.routed_experts % gpus != 0)
    throw InputError(fmt::format("--gpus: {} GPUs do not divide the {} routed experts of {}", gpus,
                                 model.routed_experts, model.name));
  const int experts_per_gpu = static_cast<int>(model.routed_experts) / gpus;
  std::vector<double> prefill_clock, prefill_power, decode_clock, decode_power, prefill_ns;
  for (const auto& v : profile.draw(gpus, derive_seed(seed, RandomStream::kGpuDraw))) {
    const GpuKernelModel gpu(sku, v, model);
    const auto point = [&](std::int64_t tokens, std::vector<double>& clock,
                           std::vector<double>& power) {
      const auto t = gpu.time(ExpertBatch::spread_evenly(tokens, experts_per_gpu, gpu.tile_mask()));
      clock.push_back(t.clock_fraction);
      power.push_back(gpu.power_w(t.clock_fraction, t.activity) / sku.tdp_w);
      return t.duration_ns;
    };
    prefill_ns.push_back(point(16 * 1024 * model.top_k / gpus, prefill_clock, prefill_power));
    point(kDecodeSequences * model.top_k / gpus, decode_clock, decode_power);
  }
  const double mean_ns = mean(prefill_ns);
  for (auto& t : prefill_ns) t /= mean_ns;
  auto& out = context.out;
  fmt::print(out, "{} / {}: {} GPUs drawn (seed {}), {} experts\n", sku_name, profile_name, gpus,
             seed, model.name);
  fmt::print(out, "{:<44} {:>15} {:>15}\n", "", "model", "target");
  fmt::print(out, "{:<44} {:>15} {:>15}\n", "prefill MoE kernel: clock / peak",
             range(prefill_clock, 3), target(targets, "prefill_clock_fraction", 3));
  fmt::print(out, "{:<44} {:>15} {:>15}\n", "prefill MoE kernel: power / TDP",
             range(prefill_power, 3), target(targets, "prefill_power_fraction", 3));
  fmt::print(out, "{:<44} {:>15} {:>15}\n", "decode MoE kernel: clock / peak",
             range(decode_clock, 3), target(targets, "decode_clock_fraction", 3));
  fmt::print(out, "{:<44} {:>15} {:>15}\n", "decode MoE kernel: power / TDP",
             range(decode_power, 3), target(targets, "decode_power_fraction", 3));
  fmt::print(out, "{:<44} {:>15} {:>15}\n", "prefill kernel time at balanced load / mean",
             range(prefill_ns, 3), target(targets, "balanced_kernel_time_rel", 3));
  if (targets.contains("source"))
    fmt::print(out, "targets: {}\n", targets["source"].get<std::string>());
  return 0;
}

}  // namespace

int profile_command(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print(context.out,
               "vibesim profile fit CSV --gpu-col NAME --time-col NAME [...] -o PROFILE.json\n"
               "  fit a variability profile to per-run measurements of many GPUs\n"
               "vibesim profile check GPU[/PROFILE] [--model M] [--gpus N] [--seed S]\n"
               "  the kernel/DVFS model's clocks, power and spread beside calibration targets\n"
               "'vibesim profile fit --help' and 'vibesim profile check --help' show options.\n");
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "fit") return fit_command(context, rest);
  if (args[0] == "check") return check_profile_command(context, rest);
  throw InputError(
      fmt::format("profile: unknown subcommand '{}'; valid subcommands are: fit, check", args[0]));
}

}  // namespace vibesim
