#include "sim/serving_spec.h"

#include "io/config_object.h"

namespace vibesim {

ServingSpec ServingSpec::parse(ConfigObject& c) {
  ServingSpec s;
  s.mode = c.choice_or("mode", s.mode, kServingModes);
  s.deployment = c.choice_or("deployment", s.deployment, kDeployments);
  s.max_batched_tokens = c.integer_or("max_batched_tokens", s.max_batched_tokens, 1, 1 << 24);
  s.max_running = static_cast<int>(c.integer_or("max_running", s.max_running, 1, 1'000'000));
  s.chunked_prefill = c.boolean_or("chunked_prefill", s.chunked_prefill);
  s.kv_cache_tokens = c.integer_or("kv_cache_tokens", 0, 0, std::int64_t{1} << 40);
  s.host_overhead_us_per_iteration = c.number_or("host_overhead_us_per_iteration", 0, 0, 1e7);
  auto slo = c.object("slo");
  s.slo_ttft_ms = slo.number("ttft_ms", 1e-3, 1e9);
  s.slo_tpot_ms = slo.number("tpot_ms", 1e-3, 1e9);
  slo.finish();
  auto requests = c.object("requests");
  s.requests = RequestStreamSpec::parse(requests);
  if (c.has("frontier")) {
    auto f = c.object("frontier");
    s.frontier_target = f.number_or("target", s.frontier_target, 0.01, 1.0);
    s.frontier_min_rate_per_gpu = f.number_or("min_rate_per_gpu", 0.01, 1e-6, 1e6);
    s.frontier_max_rate_per_gpu =
        f.number_or("max_rate_per_gpu", 50, s.frontier_min_rate_per_gpu, 1e6);
    s.frontier_steps = static_cast<int>(f.integer_or("steps", s.frontier_steps, 1, 60));
    f.finish();
  }
  c.finish();
  return s;
}

nlohmann::ordered_json ServingSpec::to_json() const {
  return {{"mode", name_of(kServingModes, mode)},
          {"deployment", name_of(kDeployments, deployment)},
          {"max_batched_tokens", max_batched_tokens},
          {"max_running", max_running},
          {"chunked_prefill", chunked_prefill},
          {"kv_cache_tokens", kv_cache_tokens},
          {"host_overhead_us_per_iteration", host_overhead_us_per_iteration},
          {"slo", {{"ttft_ms", slo_ttft_ms}, {"tpot_ms", slo_tpot_ms}}},
          {"requests", requests.to_json()},
          {"frontier",
           {{"target", frontier_target},
            {"min_rate_per_gpu", frontier_min_rate_per_gpu},
            {"max_rate_per_gpu", frontier_max_rate_per_gpu},
            {"steps", frontier_steps}}}};
}

}  // namespace vibesim
