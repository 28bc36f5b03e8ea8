#include "sim/experiment.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/config_object.h"
#include "policies/policy_registry.h"

namespace vibesim {

ConfigLocations ConfigLocations::from_environment() {
  ConfigLocations l;
  const char* configs = std::getenv("VIBESIM_CONFIGS");
  const char* data = std::getenv("VIBESIM_DATA");
  l.config_dir = configs && *configs ? configs : VIBESIM_DEFAULT_CONFIG_DIR;
  l.data_dir = data && *data ? data : VIBESIM_DEFAULT_DATA_DIR;
  return l;
}

void apply_overrides(nlohmann::json& config, const std::vector<std::string>& overrides) {
  for (const auto& item : overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(
          fmt::format("--set '{}': expected key=value (e.g. workload.iterations=10)", item));
    const std::string key = item.substr(0, eq), text = item.substr(eq + 1);
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

// A name looks up <config_dir>/<folder>/<name>.json; a value ending in .json is
// a path relative to the experiment file.
std::filesystem::path locate(const std::string& value, const std::filesystem::path& folder,
                             const std::filesystem::path& experiment_dir) {
  if (value.ends_with(".json")) {
    std::filesystem::path p(value);
    return p.is_absolute() ? p : experiment_dir / p;
  }
  return folder / (value + ".json");
}

std::vector<std::string> names_in(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

template <class T, class Load>
T load_named(ConfigObject& c, const std::string& key, const std::filesystem::path& folder,
             const std::filesystem::path& experiment_dir, Load load) {
  const auto value = c.string(key);
  const auto path = locate(value, folder, experiment_dir);
  if (!std::filesystem::exists(path)) {
    throw c.error(key, value.ends_with(".json")
                           ? fmt::format("file '{}' does not exist", path.string())
                           : fmt::format("unknown name '{}'; valid values are: {}", value,
                                         fmt::join(names_in(folder), ", ")));
  }
  return load(path);
}

}  // namespace

Experiment load_experiment(const std::filesystem::path& path,
                           const std::vector<std::string>& overrides,
                           const ConfigLocations& locations, const PolicyRegistry& registry) {
  nlohmann::json json = read_json_file(path);
  if (!json.is_object())
    throw InputError(fmt::format("{}: expected a JSON object at the top level", path.string()));
  apply_overrides(json, overrides);
  const auto dir = path.parent_path();
  // "data:x/y" is x/y in the measured-data folder; other relative paths are
  // relative to the experiment file.
  const auto resolve_path = [&](const std::string& text) {
    if (text.starts_with("data:")) return locations.data_dir / text.substr(5);
    const std::filesystem::path p(text);
    return p.is_absolute() ? p : dir / p;
  };
  Experiment x;
  x.source = path.string();
  ConfigObject c(json, x.source);
  x.name = c.string("name");
  x.description = c.string_or("description", "");
  x.seed = static_cast<std::uint64_t>(c.integer_or("seed", 1, 0));
  x.model = load_named<MoeModel>(c, "model", locations.config_dir / "models", dir, load_moe_model);

  auto cluster = c.object("cluster");
  x.sku = load_named<GpuSku>(cluster, "gpu", locations.config_dir / "gpus", dir, load_gpu_sku);
  x.num_gpus = static_cast<int>(cluster.integer("num_gpus", 1, 4096));
  if (x.model.routed_experts % x.num_gpus != 0)
    throw cluster.error("num_gpus", fmt::format("{} GPUs do not divide the {} routed experts of {}",
                                                x.num_gpus, x.model.routed_experts, x.model.name));
  x.gpus_per_node =
      static_cast<int>(cluster.integer_or("gpus_per_node", std::min(x.num_gpus, 8), 1, x.num_gpus));
  if (x.num_gpus % x.gpus_per_node != 0)
    throw cluster.error("gpus_per_node", fmt::format("{} does not divide num_gpus = {}",
                                                     x.gpus_per_node, x.num_gpus));
  x.redundant_slots_per_gpu =
      static_cast<int>(cluster.integer_or("redundant_slots_per_gpu", 0, 0, x.model.routed_experts));
  const auto profile_name = cluster.string_or("profile", "default");
  if (profile_name.ends_with(".json")) {
    const auto profile_path = locate(profile_name, {}, dir);
    const auto profile_json = read_json_file(profile_path);
    ConfigObject p(profile_json, profile_path.string());
    const auto name = p.string_or("name", profile_path.stem().string());
    p.string_or("sku", "");
    x.profile = parse_variability_profile(p, name);
  } else {
    auto it = x.sku.profiles.find(profile_name);
    if (it == x.sku.profiles.end()) {
      std::vector<std::string> valid;
      for (const auto& [name, _] : x.sku.profiles) valid.push_back(name);
      throw cluster.error("profile",
                          fmt::format("unknown profile '{}' for GPU '{}'; valid values are: {}",
                                      profile_name, x.sku.name, fmt::join(valid, ", ")));
    }
    ConfigObject p(it->second, fmt::format("{} (gpu '{}')", x.source, x.sku.name),
                   "profiles." + profile_name);
    x.profile = parse_variability_profile(p, profile_name);
  }
  cluster.finish();

  auto workload = c.object("workload");
  x.batch_tokens = workload.integer("batch_tokens", 1, 1 << 24);
  x.iterations = static_cast<int>(workload.integer("iterations", 1, 10'000'000));
  x.calibration_batches =
      static_cast<int>(workload.integer_or("calibration_batches", 100, 1, 100'000));
  auto routing = workload.object("routing");
  x.routing.source = routing.choice("source", {"synthetic", "count_trace"});
  if (x.routing.source == "synthetic") {
    auto& s = x.routing.synthetic;
    s.distribution = routing.choice_or("distribution", "zipf", {"zipf", "dirichlet", "uniform"});
    if (s.distribution == "zipf")
      s.zipf_exponent = routing.number_or("zipf_exponent", 1.0, 0.0, 10.0);
    if (s.distribution == "dirichlet")
      s.dirichlet_alpha = routing.number_or("dirichlet_alpha", 1.0, 1e-3, 1e6);
    s.pool_size = static_cast<int>(routing.integer_or("pool_size", 32, 1, 100'000));
    if (routing.has("drift_at_iterations")) {
      s.drift_at_batches = routing.integer_list("drift_at_iterations", 1, 1'000'000'000);
      if (!std::is_sorted(s.drift_at_batches.begin(), s.drift_at_batches.end()))
        throw routing.error("drift_at_iterations", "must be in ascending order");
    }
  } else {
    const auto trace = routing.string("path");
    std::filesystem::path p(trace);
    x.routing.trace_path = p.is_absolute() ? p : dir / p;
    if (!std::filesystem::exists(x.routing.trace_path))
      throw routing.error("path",
                          fmt::format("file '{}' does not exist", x.routing.trace_path.string()));
  }
  routing.finish();
  workload.finish();

  if (c.has("profiling")) {
    auto profiling = c.object("profiling");
    x.profiling_repetitions = static_cast<int>(profiling.integer_or("repetitions", 5, 1, 1000));
    profiling.finish();
  } else {
    x.profiling_repetitions = 5;
  }

  if (c.has("recalibration")) {
    auto r = c.object("recalibration");
    auto& spec = x.recalibration;
    spec.controller = r.choice_or("controller", "never", {"never", "every_k_steps", "drift"});
    spec.every_k_steps =
        static_cast<int>(r.integer_or("every_k_steps", spec.every_k_steps, 1, 1'000'000));
    spec.window = static_cast<int>(r.integer_or("window", spec.window, 1, 100'000));
    spec.check_every =
        static_cast<int>(r.integer_or("check_every", spec.check_every, 1, 1'000'000));
    spec.threshold = r.number_or("threshold", spec.threshold, 0.0, 1.0);
    spec.cooldown = static_cast<int>(r.integer_or("cooldown", spec.cooldown, 0, 1'000'000));
    spec.reprofile = r.boolean_or("reprofile", false);
    r.finish();
  }

  if (c.has("gpu_events")) {
    const auto& list = c.raw("gpu_events");
    if (!list.is_array()) throw c.error("gpu_events", "expected a list of events");
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigObject e(list[i], x.source, fmt::format("gpu_events[{}]", i));
      ThrottleEvent event;
      event.gpu = static_cast<int>(e.integer("gpu", 0, x.num_gpus - 1));
      event.at = SimTime::from_ns(static_cast<std::int64_t>(e.number("at_ms", 0, 1e9) * 1e6));
      event.slowdown = e.number("slowdown_percent", 0, 1000) / 100;
      e.finish();
      x.gpu_events.push_back(event);
    }
  }

  if (c.has("serving")) {
    auto sv = c.object("serving");
    auto& spec = x.serving;
    spec.enabled = true;
    spec.mode = sv.choice_or("mode", "mixed", {"mixed", "prefill_only", "decode_only"});
    spec.deployment = sv.choice_or("deployment", "tp_attention", {"tp_attention", "dp_attention"});
    spec.max_batched_tokens = sv.integer_or("max_batched_tokens", 8192, 1, 1 << 24);
    spec.max_running = static_cast<int>(sv.integer_or("max_running", 256, 1, 1'000'000));
    spec.chunked_prefill = sv.boolean_or("chunked_prefill", true);
    spec.kv_cache_tokens = sv.integer_or("kv_cache_tokens", 0, 0, std::int64_t{1} << 40);
    auto slo = sv.object("slo");
    spec.slo_ttft_ms = slo.number("ttft_ms", 1e-3, 1e9);
    spec.slo_tpot_ms = slo.number("tpot_ms", 1e-3, 1e9);
    slo.finish();
    auto rq = sv.object("requests");
    spec.request_source = rq.choice("source", {"trace", "poisson", "gamma"});
    if (spec.request_source == "trace") {
      spec.trace_path = resolve_path(rq.string("path"));
      if (!std::filesystem::exists(spec.trace_path))
        throw rq.error("path", fmt::format("file '{}' does not exist", spec.trace_path.string()));
    } else {
      auto& g = spec.generator;
      g.arrival = spec.request_source;
      g.rate_per_s = rq.number("rate_per_gpu", 1e-6, 1e6) * x.num_gpus;
      g.count = rq.integer_or("count", 1000, 1, 10'000'000);
      if (g.arrival == "gamma") g.burstiness_cv = rq.number_or("burstiness_cv", 2.0, 0.05, 100);
      auto lengths = rq.object("lengths");
      g.lengths.kind = lengths.choice("kind", {"fixed", "sharegpt", "trace"});
      if (g.lengths.kind == "fixed") {
        g.lengths.input_tokens = lengths.integer_or("input_tokens", 1024, 1, 1 << 24);
        g.lengths.output_tokens = lengths.integer_or("output_tokens", 128, 1, 1 << 24);
      } else if (g.lengths.kind == "trace") {
        g.lengths.trace = resolve_path(lengths.string("path"));
        if (!std::filesystem::exists(g.lengths.trace))
          throw lengths.error("path",
                              fmt::format("file '{}' does not exist", g.lengths.trace.string()));
      }
      lengths.finish();
    }
    rq.finish();
    if (sv.has("frontier")) {
      auto f = sv.object("frontier");
      spec.frontier_target = f.number_or("target", 0.9, 0.01, 1.0);
      spec.frontier_min_rate_per_gpu = f.number_or("min_rate_per_gpu", 0.01, 1e-6, 1e6);
      spec.frontier_max_rate_per_gpu =
          f.number_or("max_rate_per_gpu", 50, spec.frontier_min_rate_per_gpu, 1e6);
      spec.frontier_steps = static_cast<int>(f.integer_or("steps", 10, 1, 60));
      f.finish();
    }
    sv.finish();
  }

  if (c.has("policies")) {
    x.policies = c.string_list("policies");
    if (x.policies.empty()) throw c.error("policies", "lists no policy");
    for (std::size_t i = 0; i < x.policies.size(); ++i) {
      if (!registry.contains(x.policies[i]))
        throw c.error(fmt::format("policies[{}]", i),
                      fmt::format("unknown policy '{}'; valid values are: {}", x.policies[i],
                                  fmt::join(registry.names(), ", ")));
      if (const auto& why = registry.entry(x.policies[i]).unavailable; !why.empty())
        throw c.error(fmt::format("policies[{}]", i),
                      fmt::format("policy '{}' is unavailable: {}", x.policies[i], why));
    }
  } else {
    x.policies = registry.default_study_names();
  }
  c.finish();
  return x;
}

nlohmann::ordered_json Experiment::resolved_json() const {
  nlohmann::ordered_json routing_json;
  routing_json["source"] = routing.source;
  if (routing.source == "synthetic") {
    routing_json["distribution"] = routing.synthetic.distribution;
    routing_json["zipf_exponent"] = routing.synthetic.zipf_exponent;
    routing_json["dirichlet_alpha"] = routing.synthetic.dirichlet_alpha;
    routing_json["pool_size"] = routing.synthetic.pool_size;
    routing_json["drift_at_iterations"] = routing.synthetic.drift_at_batches;
  } else {
    routing_json["path"] = routing.trace_path.string();
  }
  nlohmann::ordered_json out;
  out["name"] = name;
  out["description"] = description;
  out["seed"] = seed;
  out["model"] = model.to_json();
  out["cluster"] = {{"gpu", sku.to_json()},
                    {"profile", profile.to_json()},
                    {"num_gpus", num_gpus},
                    {"gpus_per_node", gpus_per_node},
                    {"redundant_slots_per_gpu", redundant_slots_per_gpu}};
  out["workload"] = {{"batch_tokens", batch_tokens},
                     {"iterations", iterations},
                     {"calibration_batches", calibration_batches},
                     {"routing", routing_json}};
  out["profiling"] = {{"repetitions", profiling_repetitions}};
  out["recalibration"] = {
      {"controller", recalibration.controller}, {"every_k_steps", recalibration.every_k_steps},
      {"window", recalibration.window},         {"check_every", recalibration.check_every},
      {"threshold", recalibration.threshold},   {"cooldown", recalibration.cooldown}};
  if (serving.enabled) {
    nlohmann::ordered_json requests = {{"source", serving.request_source}};
    if (serving.request_source == "trace") {
      requests["path"] = serving.trace_path.string();
    } else {
      requests["rate_per_gpu"] = serving.generator.rate_per_s / num_gpus;
      requests["count"] = serving.generator.count;
      if (serving.request_source == "gamma")
        requests["burstiness_cv"] = serving.generator.burstiness_cv;
      requests["lengths"] = {{"kind", serving.generator.lengths.kind},
                             {"input_tokens", serving.generator.lengths.input_tokens},
                             {"output_tokens", serving.generator.lengths.output_tokens},
                             {"path", serving.generator.lengths.trace.string()}};
    }
    out["serving"] = {{"mode", serving.mode},
                      {"deployment", serving.deployment},
                      {"max_batched_tokens", serving.max_batched_tokens},
                      {"max_running", serving.max_running},
                      {"chunked_prefill", serving.chunked_prefill},
                      {"kv_cache_tokens", serving.kv_cache_tokens},
                      {"slo", {{"ttft_ms", serving.slo_ttft_ms}, {"tpot_ms", serving.slo_tpot_ms}}},
                      {"requests", requests},
                      {"frontier",
                       {{"target", serving.frontier_target},
                        {"min_rate_per_gpu", serving.frontier_min_rate_per_gpu},
                        {"max_rate_per_gpu", serving.frontier_max_rate_per_gpu},
                        {"steps", serving.frontier_steps}}}};
  }
  out["policies"] = policies;
  return out;
}

}  // namespace vibesim
