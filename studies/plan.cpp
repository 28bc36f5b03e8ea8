#include "studies/plan.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "base/parallel_for.h"
#include "io/config_error.h"
#include "sim/experiment.h"
#include "sim/serving_loop.h"

namespace vibesim {

namespace {

Experiment load_at(const PlanRequest& r, int gpus, const ConfigLocations& locations,
                   const PolicyRegistry& registry) {
  auto overrides = r.overrides;
  if (gpus > 0) overrides.push_back(fmt::format("cluster.num_gpus={}", gpus));
  return load_experiment(r.experiment, overrides, locations, registry);
}

// The frontier of every seed at one GPU count, summarised per policy.
CapacityAtGpus capacity_at(const Experiment& x, const PlanRequest& r,
                           const PolicyRegistry& registry) {
  const int seeds = x.comparison.seeds;
  std::vector<std::vector<FrontierPoint>> runs(static_cast<std::size_t>(seeds));
  parallel_for(seeds, r.jobs, [&](int i) {
    const Experiment one = seed_experiment(x, i);
    runs[static_cast<std::size_t>(i)] =
        slo_frontier(one, registry, ServingObservers::polling(r.checkpoint));
  });
  CapacityAtGpus out{x.cluster.num_gpus, {}};
  for (std::size_t p = 0; p < x.policies.size(); ++p) {
    std::vector<double> per_gpu, total;
    std::map<std::string, int> binding;
    for (const auto& run : runs) {
      per_gpu.push_back(run[p].max_rate_per_gpu);
      total.push_back(run[p].max_rate_per_gpu * x.cluster.num_gpus);
      ++binding[run[p].binding_slo()];
    }
    const auto most = std::max_element(binding.begin(), binding.end(),
                                       [](auto& a, auto& b) { return a.second < b.second; });
    out.policies.push_back(
        {x.policies[p], mean_interval_95(per_gpu), mean_interval_95(total), most->first});
  }
  return out;
}

std::vector<int> candidate_counts(const Experiment& x, const PlanRequest& r) {
  if (r.gpus > 0) return {r.gpus};
  std::vector<int> out;
  const int node = x.cluster.gpus_per_node;
  for (int g = node; g <= std::max(r.max_gpus, node); g += node) out.push_back(g);
  return out;
}

void answer(CapacityPlan& plan) {
  if (plan.target_rate_per_s <= 0 || plan.tried.empty()) return;
  for (std::size_t p = 0; p < plan.tried.front().policies.size(); ++p) {
    CapacityPlan::Answer a{plan.tried.front().policies[p].policy, {}, {}};
    for (const auto& c : plan.tried) {
      const auto& rate = c.policies[p].rate;
      if (!a.gpus && rate.mean >= plan.target_rate_per_s) a.gpus = c.gpus;
      if (!a.gpus_95 && rate.low >= plan.target_rate_per_s) a.gpus_95 = c.gpus;
    }
    plan.answers.push_back(a);
  }
}

nlohmann::ordered_json interval_json(const MeanInterval& m) {
  return {{"mean", m.mean}, {"ci95", {m.low, m.high}}};
}

}  // namespace

CapacityPlan plan_capacity(const PlanRequest& r, const ConfigLocations& locations,
                           const PolicyRegistry& registry) {
  const Experiment base = load_at(r, r.gpus, locations, registry);
  if (!base.serving_enabled)
    throw InputError(fmt::format("{}: plan needs a serving experiment (a 'serving' section)",
                                 r.experiment.string()));
  check_frontier_possible(base);
  CapacityPlan plan{base.name, base.comparison.seeds, r.target_rate_per_s, {}, {}, {}};
  for (const int g : candidate_counts(base, r)) {
    std::optional<Experiment> x;
    try {
      x = load_at(r, g, locations, registry);
    } catch (const InputError& e) {
      if (r.gpus > 0) throw;
      plan.skipped_gpus.push_back(fmt::format("{}: {}", g, e.what()));
      continue;
    }
    plan.tried.push_back(capacity_at(*x, r, registry));
    if (r.progress) r.progress(fmt::format("{} GPUs done", g));
    if (r.target_rate_per_s > 0 &&
        std::all_of(plan.tried.back().policies.begin(), plan.tried.back().policies.end(),
                    [&](const PolicyCapacity& c) { return c.rate.low >= r.target_rate_per_s; }))
      break;  // every policy sustains the target with 95 % confidence: larger counts add nothing
  }
  if (plan.tried.empty())
    throw InputError(fmt::format("{}: no GPU count up to {} fits the experiment ({})",
                                 r.experiment.string(), r.max_gpus,
                                 plan.skipped_gpus.empty() ? "" : plan.skipped_gpus.front()));
  answer(plan);
  return plan;
}

nlohmann::ordered_json CapacityPlan::to_json() const {
  nlohmann::ordered_json tried_json = nlohmann::ordered_json::array();
  for (const auto& c : tried) {
    nlohmann::ordered_json policies = nlohmann::ordered_json::array();
    for (const auto& p : c.policies)
      policies.push_back({{"policy", p.policy},
                          {"rate_per_gpu", interval_json(p.rate_per_gpu)},
                          {"rate_per_s", interval_json(p.rate)},
                          {"binding_slo", p.binding_slo}});
    tried_json.push_back({{"gpus", c.gpus}, {"policies", policies}});
  }
  nlohmann::ordered_json answers_json = nlohmann::ordered_json::array();
  for (const auto& a : answers)
    answers_json.push_back(
        {{"policy", a.policy},
         {"smallest_gpus", a.gpus ? nlohmann::ordered_json(*a.gpus) : nlohmann::ordered_json()},
         {"smallest_gpus_95",
          a.gpus_95 ? nlohmann::ordered_json(*a.gpus_95) : nlohmann::ordered_json()}});
  return {{"experiment", experiment},
          {"seeds", seeds},
          {"interval", "95 % confidence interval of the mean over seeds (Student's t)"},
          {"target_rate_per_s", target_rate_per_s},
          {"tried", tried_json},
          {"skipped_gpus", skipped_gpus},
          {"answers", answers_json}};
}

}  // namespace vibesim
