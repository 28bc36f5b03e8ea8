// `vibesim profile check`: what the kernel and DVFS model make of a node
// drawn from a variability profile, beside the profile's calibration targets.
#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "base/derived_seed.h"
#include "base/statistics.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "io/named_config.h"
#include "models/deployment.h"
#include "models/gpu_kernel_model.h"
#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "models/power_readings.h"
#include "models/variability_profile.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

// The paper's prefill batch: 16 prompts of 1024 tokens.
constexpr PrefillBatch kPrefillBatch{16 * 1024, 1024};

// What the model makes of one drawn GPU: a layer of the prefill batch, a
// decode MoE kernel, and the MoE kernel's time at two loads per expert.
struct GpuReading {
  PrefillLayerPower prefill;
  KernelTiming decode;
  double ns_at_64_tokens = 0, ns_at_4096_tokens = 0;
  double tdp_w = 0;
};

// One row of the check: what it reads of each GPU, the values, and the
// calibration_targets key holding its target.
using TargetRange = std::pair<double, double>;
struct CheckRow {
  const char* key;
  const char* label;
  double (*read)(const GpuReading&);
  bool relative_to_mean = false;  // per_gpu over the node's mean
  std::vector<double> per_gpu = {};
  std::optional<TargetRange> target = std::nullopt;
};

struct CheckRequest {
  std::string gpu;  // a shipped GPU's name or a GPU file (.json)
  std::string profile_name = "default", model_name = "deepseek-v3";
  DeploymentKind deployment = DeploymentKind::kTpEpAllReduce;
  int gpus = 8;
  std::uint64_t seed = 1;
  bool json = false;
};

// The rows for each GPU drawn from `profile`, in the order printed.
std::vector<CheckRow> check_rows(const CheckRequest& request, const GpuSku& sku,
                                 const VariabilityProfile& profile, const MoeModel& model) {
  using R = const GpuReading&;
  std::vector<CheckRow> rows{
      {"prefill_clock_fraction", "prefill MoE kernel: clock / peak",
       [](R r) { return r.prefill.moe.clock_fraction; }},
      {"prefill_power_fraction", "prefill MoE kernel: power / TDP",
       [](R r) { return r.prefill.moe.power_w / r.tdp_w; }},
      {"moe_time_at_cap_fraction", "prefill MoE kernel: time at power limit",
       [](R r) { return r.prefill.moe.at_cap_fraction; }},
      {"moe_clock_drop", "prefill MoE kernel: clock drop",
       [](R r) { return 1 - r.prefill.moe.clock_fraction; }},
      {"attention_time_at_cap_fraction", "prefill attention: time at power limit",
       [](R r) { return r.prefill.attention.at_cap_fraction; }},
      {"attention_clock_drop", "prefill attention: clock drop",
       [](R r) { return 1 - r.prefill.attention.clock_fraction; }},
      {"prefill_layer_clock_fraction", "prefill layer: clock / peak, time-averaged",
       [](R r) { return r.prefill.mean_clock; }},
      {"prefill_layer_power_fraction", "prefill layer: power / TDP, time-averaged",
       [](R r) { return r.prefill.mean_power_w / r.tdp_w; }},
      {"decode_clock_fraction", "decode MoE kernel: clock / peak",
       [](R r) { return r.decode.clock_fraction; }},
      {"decode_power_fraction", "decode MoE kernel: power / TDP",
       [](R r) { return r.decode.power_w / r.tdp_w; }},
      {"balanced_kernel_time_rel", "prefill kernel time at balanced load / mean",
       [](R r) { return r.prefill.moe.duration_ns; }, true},
      // How the spread moves with load: the MoE kernel with its experts at
      // 64 and 4,096 tokens each.
      {"kernel_time_rel_64_tokens", "MoE kernel time at 64 tokens/expert / mean",
       [](R r) { return r.ns_at_64_tokens; }, true},
      {"kernel_time_rel_4096_tokens", "MoE kernel time at 4096 tokens/expert / mean",
       [](R r) { return r.ns_at_4096_tokens; }, true},
  };
  const auto deployment = make_deployment(request.deployment);
  const int g = request.gpus;
  const std::int64_t experts_per_gpu = model.routed_experts / g;
  for (const auto& v : profile.draw(g, derive_seed(request.seed, RandomStream::kGpuDraw))) {
    const GpuKernelModel gpu(sku, v, model);
    const auto at_load = [&](std::int64_t tokens_per_expert) {
      return gpu.duration_ns(
          balanced_expert_batch(gpu, model, g, tokens_per_expert * experts_per_gpu));
    };
    const GpuReading reading{
        prefill_layer_power(gpu, model, *deployment, sku.interconnect, g, kPrefillBatch),
        decode_moe_kernel(gpu, model, g), at_load(64), at_load(4096), sku.tdp_w};
    for (auto& row : rows) row.per_gpu.push_back(row.read(reading));
  }
  for (auto& row : rows) {
    if (!row.relative_to_mean) continue;
    const double mean_ns = mean(row.per_gpu);
    for (auto& t : row.per_gpu) t /= mean_ns;
  }
  return rows;
}

// What the calibration targets say of themselves: where they come from and
// the deployment they were measured under (the paper's unless stated). Under
// another deployment the layer's work and collectives differ, so the check
// shows the targets but does not measure how far off the model is.
struct TargetsMeta {
  std::string source;
  DeploymentKind deployment = DeploymentKind::kTpEpAllReduce;
};

// Each row's target from the profile's calibration_targets: a number or a
// [low, high] pair; a key no row reads (a typo) is refused, as in every config.
TargetsMeta read_targets(std::vector<CheckRow>& rows, ConfigObject& targets) {
  for (auto& row : rows) {
    if (!targets.has(row.key)) continue;
    if (targets.raw(row.key).is_number()) {
      const double value = targets.number(row.key);
      row.target = TargetRange{value, value};
      continue;
    }
    const auto pair = targets.number_list(row.key, -1e300, 1e300);
    if (pair.size() != 2 || !(pair[0] <= pair[1]))
      throw targets.error(row.key, "must be a number or a [low, high] pair with low <= high");
    row.target = TargetRange{pair[0], pair[1]};
  }
  TargetsMeta meta{targets.string_or("source", "")};
  meta.deployment = targets.choice_or("deployment", meta.deployment, kDeployments);
  targets.finish();
  return meta;
}

// How far the mean over the GPUs lies outside the target, relative to the
// nearer end (0 inside it).
double off_target(double model_mean, TargetRange target) {
  const double edge = model_mean < target.first    ? target.first
                      : model_mean > target.second ? target.second
                                                   : model_mean;
  if (edge == model_mean) return 0;
  return edge != 0 ? model_mean / edge - 1 : model_mean - edge;
}

// A row over the GPUs: its range, mean, and how far off target (none
// without a target, or when the targets hold for another deployment).
struct RowSummary {
  double min = 0, max = 0, mean = 0;
  std::optional<double> off_target;
};

RowSummary summary_of(const CheckRow& row, bool compared) {
  const auto [lo, hi] = std::minmax_element(row.per_gpu.begin(), row.per_gpu.end());
  RowSummary out{*lo, *hi, mean(row.per_gpu), std::nullopt};
  if (row.target && compared) out.off_target = off_target(out.mean, *row.target);
  return out;
}

// Whether the targets were measured under the deployment the check models.
bool compared(const CheckRequest& request, const TargetsMeta& targets) {
  return request.deployment == targets.deployment;
}

std::string format_target(const std::optional<TargetRange>& t) {
  if (!t) return "-";
  if (t->first == t->second) return fmt::format("{:.3f}", t->first);
  return fmt::format("{:.3f} - {:.3f}", t->first, t->second);
}

void print_table(std::ostream& out, const CheckRequest& request, const std::string& model_name,
                 const std::vector<CheckRow>& rows, const TargetsMeta& targets) {
  fmt::print(out, "{} / {}: {} GPUs drawn (seed {}), {} experts, {} deployment\n", request.gpu,
             request.profile_name, request.gpus, request.seed, model_name,
             name_of(kDeployments, request.deployment));
  fmt::print(out, "{:<44} {:>15} {:>15} {:>11}\n", "", "model", "target", "off target");
  for (const auto& row : rows) {
    const auto r = summary_of(row, compared(request, targets));
    const auto& off = r.off_target;
    fmt::print(out, "{:<44} {:>15} {:>15} {:>11}\n", row.label,
               fmt::format("{:.3f} - {:.3f}", r.min, r.max), format_target(row.target),
               !off        ? "-"
               : *off == 0 ? "in range"
                           : fmt::format("{:+.1f} %", *off * 100));
  }
  if (!targets.source.empty()) fmt::print(out, "targets: {}\n", targets.source);
  if (!compared(request, targets))
    fmt::print(out, "targets measured under the {} deployment: not compared under {}\n",
               name_of(kDeployments, targets.deployment),
               name_of(kDeployments, request.deployment));
}

nlohmann::ordered_json check_json(const CheckRequest& request, const std::string& model_name,
                                  const std::vector<CheckRow>& rows, const TargetsMeta& targets) {
  nlohmann::ordered_json out = {
      {"gpu", request.gpu},   {"profile", request.profile_name},
      {"gpus", request.gpus}, {"seed", request.seed},
      {"model", model_name},  {"deployment", name_of(kDeployments, request.deployment)}};
  auto& list = out["rows"] = nlohmann::ordered_json::array();
  for (const auto& row : rows) {
    const auto r = summary_of(row, compared(request, targets));
    const auto& target = row.target;
    list.push_back({{"key", row.key},
                    {"label", row.label},
                    {"min", r.min},
                    {"max", r.max},
                    {"mean", r.mean},
                    {"target", target ? nlohmann::ordered_json{target->first, target->second}
                                      : nlohmann::ordered_json(nullptr)},
                    {"off_target", r.off_target ? nlohmann::ordered_json(*r.off_target)
                                                : nlohmann::ordered_json(nullptr)}});
  }
  if (!targets.source.empty()) out["targets_source"] = targets.source;
  out["targets_deployment"] = name_of(kDeployments, targets.deployment);
  return out;
}

std::optional<CheckRequest> parse_check_request(const CliContext& context,
                                                const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim profile check GPU[/PROFILE] [options]\n\n"
      "GPU: a shipped GPU's name (mi325x) or a GPU file (ending in .json).\n"
      "Draws a node of GPUs from a profile and prints what the kernel and DVFS model make of\n"
      "them beside the profile's calibration_targets (the paper's measurements, where given):\n"
      "one MoE layer of a 16 x 1024-token prefill batch (the MoE kernel, attention, and the\n"
      "layer's clock and power averaged over time) and a decode MoE kernel (256 tokens).\n"
      "'off target': how far the mean over the GPUs lies outside the target.\n\noptions");
  CheckRequest request;
  std::string gpu_profile, deployment = name_of(kDeployments, request.deployment);
  std::int64_t seed_value = 1;
  options.add_options()("help,h", "show this help")(
      "profile", po::value(&request.profile_name)->default_value(request.profile_name),
      "the GPU's variability profile (or GPU/PROFILE)")(
      "model", po::value(&request.model_name)->default_value(request.model_name),
      "model whose experts run")("gpus", po::value(&request.gpus)->default_value(8),
                                 "GPUs to draw (the expert-parallel group)")(
      "seed", po::value(&seed_value)->default_value(1),
      "experiment seed (GPUs drawn as `run` draws them)")(
      "deployment", po::value(&deployment)->default_value(deployment),
      ("how attention and the MoE combine are split (the paper's setup by default): " +
       names_of(kDeployments))
          .c_str())("json", "write JSON to stdout instead of the table");
  const auto vm = parse_command_line(context, args, options, "gpu", &gpu_profile);
  if (!vm) return std::nullopt;
  if (gpu_profile.empty()) throw InputError("profile check: name a GPU, e.g. mi325x/default");
  if (request.gpus < 1 || request.gpus > 4096) throw InputError("--gpus: must be in [1, 4096]");
  const auto kind = find_choice(kDeployments, deployment);
  if (!kind)
    throw InputError(
        fmt::format("--deployment: unknown '{}'; valid: {}", deployment, names_of(kDeployments)));
  request.deployment = *kind;
  request.seed = seed_option(seed_value);
  request.json = vm->count("json") > 0;
  // A file keeps its slashes; a shipped name may carry "/PROFILE".
  const auto slash = gpu_profile.ends_with(".json") ? std::string::npos : gpu_profile.find('/');
  request.gpu = gpu_profile.substr(0, slash);
  if (slash != std::string::npos) {
    if (!vm->at("profile").defaulted())
      throw InputError("profile check: give the profile as GPU/PROFILE or --profile, not both");
    request.profile_name = gpu_profile.substr(slash + 1);
  }
  return request;
}

}  // namespace

int profile_check_command(const CliContext& context, const std::vector<std::string>& args) {
  const auto request = parse_check_request(context, args);
  if (!request) return 0;
  const nlohmann::json argument = {{"gpu", request->gpu}};
  ConfigObject command_line(argument, "profile check");
  const auto named = read_named_config(command_line, "gpu", context.locations.config_dir / "gpus");
  auto sku_config = named.object();
  const auto sku = parse_gpu_sku(sku_config);
  const auto model =
      load_moe_model(context.locations.config_dir / "models" / (request->model_name + ".json"));
  const auto it = sku.profiles.find(request->profile_name);
  if (it == sku.profiles.end())
    throw InputError(
        fmt::format("{}: no profile '{}' under 'profiles'", named.source, request->profile_name));
  const auto key = "profiles." + request->profile_name;
  ConfigObject config(it->second, named.source, key);
  const auto profile = parse_variability_profile(config, request->profile_name);
  const nlohmann::json no_targets = nlohmann::json::object();
  ConfigObject targets(
      it->second.contains("calibration_targets") ? it->second["calibration_targets"] : no_targets,
      named.source, key + ".calibration_targets");
  if (model.routed_experts % request->gpus != 0)
    throw InputError(fmt::format("--gpus: {} GPUs do not divide the {} routed experts of {}",
                                 request->gpus, model.routed_experts, model.name));

  auto rows = check_rows(*request, sku, profile, model);
  const auto targets_meta = read_targets(rows, targets);
  if (request->json)
    fmt::print(context.out, "{}\n", check_json(*request, model.name, rows, targets_meta).dump(2));
  else
    print_table(context.out, *request, model.name, rows, targets_meta);
  return 0;
}

}  // namespace vibesim
