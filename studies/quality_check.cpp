#include "studies/quality_check.h"

#include <cmath>
#include <fstream>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/parallel_for.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "outputs/seed_summary.h"
#include "policies/eplb.h"
#include "sim/experiment.h"

namespace vibesim {

const ChoiceTable<CheckKind, 3> kCheckKinds{{
    {"order", CheckKind::kOrder,
     "policies' mean of a metric over seeds in the given order (best first), each within "
     "`tolerance` of the next"},
    {"value", CheckKind::kValue,
     "a policy's mean of a metric over seeds within `tolerance` (relative) of `recorded`"},
    {"eplb_reference", CheckKind::kEplbReference,
     "EPLB's placement of the given loads identical to `recorded` (the reference answer)"},
}};

namespace {

std::vector<std::vector<double>> number_matrix(ConfigObject& c, const std::string& key) {
  const auto& raw = c.raw(key);
  std::vector<std::vector<double>> out;
  if (!raw.is_array() || raw.empty()) throw c.error(key, "expected a non-empty list of lists");
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto index = std::to_string(i);
    const nlohmann::json holder{{index, raw[i]}};
    ConfigObject row(holder, c.source(), c.key_path(key));  // errors name "<key>.<i>"
    out.push_back(row.number_list(index, 0, 1e15));
  }
  return out;
}

void parse_experiment_check(ConfigObject& c, QualityCheck& q, const std::filesystem::path& file,
                            const ConfigLocations& locations) {
  q.experiment = c.experiment_file("experiment", locations, file);
  if (c.has("set")) q.overrides = c.string_list("set");
  q.seeds = static_cast<int>(c.integer_or("seeds", 1, 1, 100));
  q.frontier = c.boolean_or("frontier", false);
  q.metric = c.string("metric");
  q.tolerance = c.number_or("tolerance", 0, 0, 10);
}

QualityCheck parse_check(ConfigObject& c, const std::filesystem::path& file,
                         const ConfigLocations& locations) {
  QualityCheck q;
  q.name = c.string("name");
  q.kind = c.choice("kind", kCheckKinds);
  switch (q.kind) {
    case CheckKind::kOrder:
      parse_experiment_check(c, q, file, locations);
      q.order = c.string_list("order");
      if (q.order.size() < 2) throw c.error("order", "name at least two policies");
      q.higher_is_better = c.boolean_or("higher_is_better", false);
      break;
    case CheckKind::kValue:
      parse_experiment_check(c, q, file, locations);
      q.policy = c.string("policy");
      q.recorded = c.number("recorded", -1e300, 1e300);
      break;
    case CheckKind::kEplbReference: {
      q.loads = number_matrix(c, "loads");
      q.replicas = static_cast<int>(c.integer("replicas", 1, 1 << 20));
      q.groups = static_cast<int>(c.integer("groups", 1, 1 << 20));
      q.nodes = static_cast<int>(c.integer("nodes", 1, 1 << 20));
      q.gpus = static_cast<int>(c.integer("gpus", 1, 1 << 20));
      for (const auto& row : number_matrix(c, "recorded")) {
        std::vector<int> slots;
        for (double v : row) slots.push_back(static_cast<int>(v));
        q.recorded_placement.push_back(slots);
      }
      break;
    }
  }
  c.finish();
  return q;
}

// One experiment over seeds, as several checks may share it.
using RunKey =
    std::tuple<std::string, std::vector<std::string>, bool>;  // file, overrides, frontier

// `checkpoint` (may be empty) is polled as the runs go.
std::vector<PolicyMetrics> measure_seed(const Experiment& x, bool frontier,
                                        const PolicyRegistry& registry,
                                        const std::function<void()>& checkpoint) {
  if (!x.serving_enabled)
    return headline_metrics(run_layer_study(x, registry, nullptr, checkpoint),
                            !x.gpu_events.empty());
  const auto observe = ServingObservers::polling(checkpoint);
  const auto serving = run_serving(x, registry, experiment_requests(x), observe);
  return headline_metrics(
      serving, frontier ? slo_frontier(x, registry, observe) : std::vector<FrontierPoint>{});
}

double metric_of(const std::vector<PolicyMetrics>& seed, const std::string& policy,
                 const std::string& metric, const QualityCheck& q) {
  for (const auto& p : seed) {
    if (p.policy != policy) continue;
    for (const auto& [name, value] : p.values)
      if (name == metric) return value;
    std::vector<std::string> names;
    for (const auto& v : p.values) names.push_back(v.first);
    throw InputError(fmt::format("check '{}': no metric '{}' (the run has: {})", q.name, metric,
                                 fmt::join(names, ", ")));
  }
  throw InputError(
      fmt::format("check '{}': policy '{}' did not run in the experiment", q.name, policy));
}

double mean_over_seeds(const std::vector<std::vector<PolicyMetrics>>& seeds,
                       const std::string& policy, const QualityCheck& q) {
  double sum = 0;
  for (const auto& s : seeds) sum += metric_of(s, policy, q.metric, q);
  return sum / static_cast<double>(seeds.size());
}

CheckOutcome judge_order(const QualityCheck& q,
                         const std::vector<std::vector<PolicyMetrics>>& seeds) {
  CheckOutcome o{&q, true, "", "", nullptr};
  std::vector<double> means;
  for (const auto& p : q.order) means.push_back(mean_over_seeds(seeds, p, q));
  const char* relation = q.higher_is_better ? " >= " : " <= ";
  for (std::size_t i = 0; i < q.order.size(); ++i) {
    o.expected += (i ? relation : "") + q.order[i];
    o.measured += fmt::format("{}{:.4g}", i ? relation : "", means[i]);
    if (i == 0) continue;
    const double better = means[i - 1], worse = means[i];
    const bool ok = q.higher_is_better ? better >= worse * (1 - q.tolerance)
                                       : better <= worse * (1 + q.tolerance);
    o.passed = o.passed && ok;
  }
  o.expected += fmt::format(" ({}, tolerance {:g} %)", q.metric, 100 * q.tolerance);
  return o;
}

CheckOutcome judge_value(const QualityCheck& q,
                         const std::vector<std::vector<PolicyMetrics>>& seeds) {
  const double m = mean_over_seeds(seeds, q.policy, q);
  CheckOutcome o{&q, std::abs(m - q.recorded) <= q.tolerance * std::abs(q.recorded), "", "", m};
  o.expected =
      fmt::format("{} {} = {:.6g} ± {:g} %", q.policy, q.metric, q.recorded, 100 * q.tolerance);
  o.measured =
      fmt::format("{:.6g} ({:+.2f} %)", m, q.recorded != 0 ? 100 * (m / q.recorded - 1) : 0.0);
  return o;
}

CheckOutcome judge_eplb(const QualityCheck& q) {
  std::vector<std::vector<int>> placement;
  for (const auto& layer : q.loads)
    placement.push_back(
        eplb::rebalance_layer(layer, q.replicas, q.groups, q.nodes, q.gpus).phy_to_log);
  CheckOutcome o{&q, placement == q.recorded_placement, "", "", placement};
  o.expected = fmt::format("{}", fmt::join(q.recorded_placement, " / "));
  o.measured = o.passed ? "identical" : fmt::format("{}", fmt::join(placement, " / "));
  return o;
}

}  // namespace

Baseline Baseline::load(const std::filesystem::path& path, const ConfigLocations& locations) {
  const auto json = read_json_file(path);
  ConfigObject root(json, path.string());
  Baseline b;
  b.file = path;
  b.name = root.string_or("name", path.stem().string());
  b.description = root.string_or("description", "");
  const auto& checks = root.raw("checks");
  if (!checks.is_array() || checks.empty())
    throw root.error("checks", "expected a non-empty list of checks");
  for (std::size_t i = 0; i < checks.size(); ++i) {
    ConfigObject c(checks[i], path.string(), fmt::format("checks[{}]", i));
    b.checks.push_back(parse_check(c, path, locations));
  }
  root.finish();
  return b;
}

std::vector<CheckOutcome> run_checks(const Baseline& baseline, const ConfigLocations& locations,
                                     const PolicyRegistry& registry, const CheckOptions& options) {
  // Each distinct experiment run once per seed, all on the thread pool.
  std::map<RunKey, std::pair<Experiment, int>> experiments;  // -> experiment, seeds
  for (const auto& q : baseline.checks) {
    if (q.kind == CheckKind::kEplbReference) continue;
    const RunKey key{q.experiment.string(), q.overrides, q.frontier};
    auto it = experiments.find(key);
    if (it == experiments.end())
      it = experiments
               .emplace(
                   key,
                   std::pair{load_experiment(q.experiment, q.overrides, locations, registry), 0})
               .first;
    it->second.second = std::max(it->second.second, q.seeds);
  }
  std::vector<std::pair<const RunKey*, int>> work;  // run, seed index
  for (const auto& [key, x] : experiments)
    for (int s = 0; s < x.second; ++s) work.emplace_back(&key, s);
  std::vector<std::vector<PolicyMetrics>> measured(work.size());
  parallel_for(static_cast<int>(work.size()), options.jobs, [&](int i) {
    if (options.checkpoint) options.checkpoint();
    const auto& [key, seed] = work[static_cast<std::size_t>(i)];
    const auto x = seed_experiment(experiments.at(*key).first, seed);
    measured[static_cast<std::size_t>(i)] =
        measure_seed(x, std::get<2>(*key), registry, options.checkpoint);
  });

  std::vector<CheckOutcome> out;
  for (std::size_t c = 0; c < baseline.checks.size(); ++c) {
    const auto& q = baseline.checks[c];
    if (q.kind == CheckKind::kEplbReference) {
      out.push_back(judge_eplb(q));
      continue;
    }
    const RunKey key{q.experiment.string(), q.overrides, q.frontier};
    std::vector<std::vector<PolicyMetrics>> seeds;
    for (std::size_t i = 0; i < work.size(); ++i)
      if (*work[i].first == key && work[i].second < q.seeds) seeds.push_back(measured[i]);
    try {
      out.push_back(q.kind == CheckKind::kOrder ? judge_order(q, seeds) : judge_value(q, seeds));
    } catch (const InputError& e) {  // a metric or policy the run does not have
      throw InputError(
          fmt::format("{}: key 'checks[{}]': {}", baseline.file.string(), c, e.what()));
    }
  }
  return out;
}

BaselineUpdate updated_baseline(const Baseline& baseline,
                                const std::vector<CheckOutcome>& outcomes) {
  std::ifstream in(baseline.file);
  auto json = nlohmann::ordered_json::parse(in);
  BaselineUpdate u;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    if (o.measured_value.is_null()) continue;
    auto& recorded = json["checks"][i]["recorded"];
    const nlohmann::ordered_json measured(o.measured_value);
    if (recorded == measured) continue;
    u.changes.push_back(
        fmt::format("{}: {} -> {}", o.check->name, recorded.dump(), o.measured_value.dump()));
    recorded = o.measured_value;
  }
  u.text = json.dump(2) + "\n";
  return u;
}

}  // namespace vibesim
