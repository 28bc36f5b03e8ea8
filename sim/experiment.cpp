#include "sim/experiment.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/config_object.h"
#include "io/json_text.h"
#include "io/named_config.h"
#include "models/gpu_latency_profile.h"
#include "policies/policy_registry.h"

namespace vibesim {

void apply_overrides(nlohmann::json& config, const std::vector<std::string>& overrides) {
  for (const auto& item : overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(
          fmt::format("--set '{}': expected key=value (e.g. workload.iterations=10)", item));
    const std::string key = item.substr(0, eq), text = item.substr(eq + 1);
    // Not echoed: the message would carry the invalid bytes.
    require_json_text(key, "--set: a key");
    require_json_text(text, fmt::format("--set {}", key));
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;  // a bare word is a string
    nlohmann::json* node = &config;
    std::size_t start = 0;
    while (true) {
      const auto dot = key.find('.', start);
      const std::string part =
          key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) throw InputError(fmt::format("--set '{}': empty key component", item));
      if (!node->is_object())
        throw InputError(fmt::format("--set '{}': '{}' is not inside an object", item, part));
      if (dot == std::string::npos) {
        (*node)[part] = value;
        break;
      }
      node = &(*node)[part];
      if (node->is_null()) *node = nlohmann::json::object();
      start = dot + 1;
    }
  }
}

namespace {

VariabilityProfile parse_profile(ConfigObject& cluster, const GpuSku& sku) {
  if (!cluster.has("profile") ||
      (cluster.raw("profile").is_string() && !cluster.string("profile").ends_with(".json"))) {
    const auto name = cluster.string_or("profile", "default");
    const auto it = sku.profiles.find(name);
    if (it == sku.profiles.end()) {
      std::vector<std::string> valid;
      for (const auto& [known, _] : sku.profiles) valid.push_back(known);
      throw cluster.error("profile", fmt::format("unknown profile '{}' for GPU '{}'; valid values "
                                                 "are: {}",
                                                 name, sku.name, fmt::join(valid, ", ")));
    }
    ConfigObject p(it->second, fmt::format("{} (gpu '{}')", cluster.source(), sku.name),
                   "profiles." + name, cluster.rules());
    return parse_variability_profile(p, name);
  }
  const auto named = read_named_config(cluster, "profile", {});
  auto p = named.object();
  return parse_variability_profile(p, named.name);
}

}  // namespace

ClusterSpec ClusterSpec::parse(ConfigObject& c, const MoeModel& model,
                               const ConfigLocations& locations) {
  ClusterSpec s;
  {
    const auto named = read_named_config(c, "gpu", locations.config_dir / "gpus");
    auto gpu = named.object();
    s.sku = parse_gpu_sku(gpu);
  }
  s.num_gpus = static_cast<int>(c.integer("num_gpus", 1, 4096));
  if (model.routed_experts % s.num_gpus != 0)
    throw c.error("num_gpus", fmt::format("{} GPUs do not divide the {} routed experts of {}",
                                          s.num_gpus, model.routed_experts, model.name));
  s.gpus_per_node =
      static_cast<int>(c.integer_or("gpus_per_node", std::min(s.num_gpus, 8), 1, s.num_gpus));
  if (s.num_gpus % s.gpus_per_node != 0)
    throw c.error("gpus_per_node",
                  fmt::format("{} does not divide num_gpus = {}", s.gpus_per_node, s.num_gpus));
  // A replicating policy fills each extra slot with a copy of a different
  // expert on that GPU, so a GPU cannot hold more slots than there are experts.
  const auto experts_per_gpu = model.routed_experts / s.num_gpus;
  s.redundant_slots_per_gpu = static_cast<int>(
      c.integer_or("redundant_slots_per_gpu", 0, 0, model.routed_experts - experts_per_gpu));
  s.profile = parse_profile(c, s.sku);
  if (c.has("latency_profile")) {
    if (c.raw("latency_profile").is_string()) {
      s.measured_latency = read_gpu_latency_profile(c.file("latency_profile").resolved);
    } else {
      auto inline_profile = c.object("latency_profile");
      s.measured_latency = parse_gpu_latency_profile(inline_profile);
    }
  }
  c.finish();
  return s;
}

nlohmann::ordered_json ClusterSpec::to_json() const {
  nlohmann::ordered_json out{{"gpu", sku.to_json()},
                             {"profile", profile.to_json()},
                             {"num_gpus", num_gpus},
                             {"gpus_per_node", gpus_per_node},
                             {"redundant_slots_per_gpu", redundant_slots_per_gpu}};
  if (!measured_latency.empty())
    out["latency_profile"] = gpu_latency_profile_json(measured_latency);  // inline
  return out;
}

WorkloadSpec WorkloadSpec::parse(ConfigObject& c, const ServingSpec* serving) {
  WorkloadSpec s;
  if (serving != nullptr) {
    s.batch_tokens = c.integer_or("batch_tokens", serving->max_batched_tokens, 1, 1 << 24);
  } else {
    s.batch_tokens = c.integer("batch_tokens", 1, 1 << 24);
    s.iterations = static_cast<int>(c.integer("iterations", 1, 10'000'000));
  }
  s.calibration_batches =
      static_cast<int>(c.integer_or("calibration_batches", s.calibration_batches, 1, 100'000));
  auto routing = c.object("routing");
  s.routing = RoutingSpec::parse(routing);
  c.finish();
  return s;
}

nlohmann::ordered_json WorkloadSpec::to_json(bool serving) const {
  nlohmann::ordered_json out = {{"batch_tokens", batch_tokens}};
  if (!serving) out["iterations"] = iterations;
  out["calibration_batches"] = calibration_batches;
  out["routing"] = routing.to_json();
  return out;
}

namespace {

std::vector<std::string> parse_policies(ConfigObject& c, const PolicyRegistry& registry) {
  if (!c.has("policies")) return registry.default_study_names();
  auto policies = c.string_list("policies");
  if (policies.empty()) throw c.error("policies", "lists no policy");
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const auto key = fmt::format("policies[{}]", i);
    if (!registry.contains(policies[i]))
      throw c.error(key, fmt::format("unknown policy '{}'; valid values are: {}", policies[i],
                                     fmt::join(registry.names(), ", ")));
    if (const auto& why = registry.entry(policies[i]).unavailable; !why.empty())
      throw c.error(key, fmt::format("policy '{}' is unavailable: {}", policies[i], why));
    if (std::find(policies.begin(), policies.begin() + static_cast<std::ptrdiff_t>(i),
                  policies[i]) != policies.begin() + static_cast<std::ptrdiff_t>(i))
      throw c.error(key, fmt::format("policy '{}' is listed twice", policies[i]));
  }
  return policies;
}

}  // namespace

Experiment seed_experiment(const Experiment& x, int i) {
  Experiment one = x;
  one.seed = x.seed + static_cast<std::uint64_t>(i);
  one.comparison.seeds = 1;
  return one;
}

Experiment load_experiment(const std::filesystem::path& path,
                           const std::vector<std::string>& overrides,
                           const ConfigLocations& locations, const PolicyRegistry& registry) {
  nlohmann::json json = read_json_file(path);
  if (!json.is_object())
    throw InputError(fmt::format("{}: expected a JSON object at the top level", path.string()));
  apply_overrides(json, overrides);
  const PathRules rules{path.parent_path(), locations.data_dir};
  Experiment x;
  x.source = path.string();
  ConfigObject c(json, x.source, "", &rules);
  x.name = c.string("name");
  if (x.name.empty() || x.name.find_first_of("/\\") != std::string::npos || x.name == "." ||
      x.name == "..")
    throw c.error("name", "must be a non-empty name without '/' or '\\' (it names run folders)");
  x.description = c.string_or("description", "");
  x.seed = static_cast<std::uint64_t>(c.integer_or("seed", 1, 0));
  {
    const auto named = read_named_config(c, "model", locations.config_dir / "models");
    auto model = named.object();
    x.model = parse_moe_model(model);
  }
  auto cluster = c.object("cluster");
  x.cluster = ClusterSpec::parse(cluster, x.model, locations);
  x.serving_enabled = c.has("serving");
  if (x.serving_enabled) {
    auto serving = c.object("serving");
    x.serving = ServingSpec::parse(serving);
  }
  auto workload = c.object("workload");
  x.workload = WorkloadSpec::parse(workload, x.serving_enabled ? &x.serving : nullptr);
  if (c.has("profiling")) {
    auto profiling = c.object("profiling");
    x.profiling_repetitions = static_cast<int>(profiling.integer_or("repetitions", 5, 1, 1000));
    profiling.finish();
  }
  if (c.has("recalibration")) {
    auto recalibration = c.object("recalibration");
    x.recalibration = RecalibrationSpec::parse(recalibration);
  }
  if (c.has("gpu_events"))
    x.gpu_events = ThrottleEvent::parse_list(c, "gpu_events", x.cluster.num_gpus);
  x.policies = parse_policies(c, registry);
  if (c.has("placement")) {
    auto placement = c.object("placement");
    x.placement = PlacementSpec::parse(placement);
  }
  if (c.has("comparison")) {
    auto comparison = c.object("comparison");
    x.comparison = ComparisonSpec::parse(comparison, x.policies);
  } else {
    const nlohmann::json empty = nlohmann::json::object();
    ConfigObject defaults(empty, x.source, "comparison");
    x.comparison = ComparisonSpec::parse(defaults, x.policies);
  }
  c.finish();
  return x;
}

nlohmann::ordered_json Experiment::to_json() const {
  nlohmann::ordered_json out;
  out["name"] = name;
  out["description"] = description;
  out["seed"] = seed;
  out["model"] = model.to_json();
  out["cluster"] = cluster.to_json();
  out["workload"] = workload.to_json(serving_enabled);
  out["profiling"] = {{"repetitions", profiling_repetitions}};
  out["recalibration"] = recalibration.to_json();
  out["gpu_events"] = ThrottleEvent::list_to_json(gpu_events);
  if (serving_enabled) out["serving"] = serving.to_json();
  out["policies"] = policies;
  out["placement"] = placement.to_json();
  out["comparison"] = comparison.to_json();
  return out;
}

PlacementSpec PlacementSpec::parse(ConfigObject& c) {
  PlacementSpec s;
  // The range is open at 0, which number_or's closed ranges cannot say.
  const double any = std::numeric_limits<double>::max();
  s.search_seconds_per_layer = c.number_or("search_seconds_per_layer", 30, -any, any);
  if (!(s.search_seconds_per_layer > 0 && s.search_seconds_per_layer <= 1e6))
    throw c.error("search_seconds_per_layer",
                  fmt::format("must be in (0, 1e6] seconds, got {}", s.search_seconds_per_layer));
  c.finish();
  return s;
}

nlohmann::ordered_json PlacementSpec::to_json() const {
  return {{"search_seconds_per_layer", search_seconds_per_layer}};
}

ComparisonSpec ComparisonSpec::parse(ConfigObject& c, const std::vector<std::string>& policies) {
  ComparisonSpec s;
  s.seeds = static_cast<int>(c.integer_or("seeds", 1, 1, 10'000));
  const bool eplb_runs = std::find(policies.begin(), policies.end(), "eplb") != policies.end();
  s.baseline = c.string_or("baseline", eplb_runs ? "eplb" : policies.front());
  if (std::find(policies.begin(), policies.end(), s.baseline) == policies.end())
    throw c.error("baseline", fmt::format("'{}' is not one of the experiment's policies ({})",
                                          s.baseline, fmt::join(policies, ", ")));
  c.finish();
  return s;
}

nlohmann::ordered_json ComparisonSpec::to_json() const {
  return {{"seeds", seeds}, {"baseline", baseline}};
}

}  // namespace vibesim
