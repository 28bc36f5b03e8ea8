#include "studies/fidelity.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "base/parallel_for.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "models/deployment.h"
#include "models/power_readings.h"
#include "sim/cluster_setup.h"
#include "sim/experiment.h"
#include "sim/serving_loop.h"

namespace vibesim {

const ChoiceTable<FittableParameter, 8> kFittableSkuParameters{{
    {"kernel.moe_compute_efficiency",
     {[](GpuSku& s) -> double& { return s.kernel.moe_compute_efficiency; }, 1e-6, 1},
     "fraction of peak FLOP/s the fused expert kernel reaches"},
    {"kernel.attention_compute_efficiency",
     {[](GpuSku& s) -> double& { return s.kernel.attention_compute_efficiency; }, 1e-6, 1},
     "fraction of peak FLOP/s attention reaches"},
    {"kernel.dense_compute_efficiency",
     {[](GpuSku& s) -> double& { return s.kernel.dense_compute_efficiency; }, 1e-6, 1},
     "fraction of peak FLOP/s dense FFNs and shared experts reach"},
    {"kernel.memory_efficiency",
     {[](GpuSku& s) -> double& { return s.kernel.memory_efficiency; }, 1e-6, 1},
     "fraction of HBM bandwidth kernels reach"},
    {"interconnect.collective_bandwidth_efficiency",
     {[](GpuSku& s) -> double& { return s.interconnect.collective_bandwidth_efficiency; }, 1e-6, 1},
     "fraction of link bandwidth an all-reduce reaches"},
    {kPowerWindowParameter,
     {[](GpuSku& s) -> double& { return s.power.limit_window_s; }, 1e-6, 1},
     "seconds over which the power limit averages power (fitted on the power facts)"},
    {"power.dynamic_full_w",
     {[](GpuSku& s) -> double& { return s.power.dynamic_full_w; }, 1, 1e5},
     "dynamic power (W) at full clock and full switching activity (fitted on the power facts)"},
    {"power.activity_memory_bound",
     {[](GpuSku& s) -> double& { return s.power.activity_memory_bound; }, 1e-3, 1},
     "switching activity of a memory-bound kernel (fitted on the power facts)"},
}};

bool is_power_parameter(const std::string& name) {
  return name.starts_with("power.");
}

const ChoiceTable<FactMetric, 13> kFactMetrics{{
    {"time_share.moe_kernel", FactMetric::kMoeShare, "share of GPU time in MoE expert kernels"},
    {"time_share.attention", FactMetric::kAttentionShare, "share of GPU time in attention"},
    {"time_share.other", FactMetric::kOtherShare,
     "share of GPU time in dense FFNs and shared experts"},
    {"time_share.communication", FactMetric::kCommunicationShare,
     "share of GPU time in collectives, the waits inside them included"},
    {"frontier", FactMetric::kFrontier, "SLO frontier, requests/s per GPU"},
    {"frontier_ratio", FactMetric::kFrontierRatio,
     "frontier of `run` over the frontier of `over_run`, same policy"},
    {"power.moe_time_at_cap", FactMetric::kMoeTimeAtCap,
     "fraction of MoE kernel time at the power limit, one prefill batch"},
    {"power.attention_time_at_cap", FactMetric::kAttentionTimeAtCap,
     "fraction of attention time at the power limit, one prefill batch"},
    {"power.moe_clock_drop", FactMetric::kMoeClockDrop,
     "1 - mean clock fraction during the MoE kernel, one prefill batch"},
    {"power.attention_clock_drop", FactMetric::kAttentionClockDrop,
     "1 - mean clock fraction during attention, one prefill batch"},
    {"power.prefill_clock", FactMetric::kPrefillClock,
     "mean clock fraction over one MoE layer of a prefill batch, weighted by time: MoE kernel, "
     "attention, shared experts, and collectives at full clock"},
    {"power.prefill_power", FactMetric::kPrefillPower,
     "board power / TDP over one MoE layer of a prefill batch, weighted by time: each kernel's "
     "mean power, and a memory-bound kernel's power at full clock during the collectives"},
    {"power.decode_moe_power", FactMetric::kDecodeMoePower,
     "MoE kernel power / TDP in a balanced decode step of 256 sequences (as `vibesim profile "
     "check`)"},
}};

namespace {

// What a fact needs computed per seed on one run and policy.
enum class Evaluation { kServing, kFrontier, kPower };

Evaluation evaluation_of(FactMetric m) {
  switch (m) {
    case FactMetric::kFrontier:
    case FactMetric::kFrontierRatio:
      return Evaluation::kFrontier;
    case FactMetric::kMoeTimeAtCap:
    case FactMetric::kAttentionTimeAtCap:
    case FactMetric::kMoeClockDrop:
    case FactMetric::kAttentionClockDrop:
    case FactMetric::kPrefillClock:
    case FactMetric::kPrefillPower:
    case FactMetric::kDecodeMoePower:
      return Evaluation::kPower;
    default:
      return Evaluation::kServing;
  }
}

FittableParameter fittable(const std::string& name) {
  return *find_choice(kFittableSkuParameters, name);
}

FidelityRun parse_run(ConfigObject& r, const std::filesystem::path& file,
                      const ConfigLocations& locations) {
  FidelityRun run;
  run.experiment = r.experiment_file("experiment", locations, file);
  if (r.has("set")) run.overrides = r.string_list("set");
  r.finish();
  return run;
}

Fact parse_fact(ConfigObject& f, const FidelitySpec& spec) {
  Fact fact;
  fact.name = f.string("name");
  fact.metric = f.choice("metric", kFactMetrics);
  const auto known_run = [&](const std::string& key) {
    auto name = f.string(key);
    if (!spec.runs.contains(name))
      throw f.error(key, fmt::format("no run named '{}' in 'runs'", name));
    return name;
  };
  fact.run = known_run("run");
  if (fact.metric == FactMetric::kFrontierRatio) fact.over_run = known_run("over_run");
  fact.policy = f.string_or("policy", "eplb");
  fact.paper = f.number("paper", 1e-9, 1e9);
  fact.fitted = f.choice("role", {"fit", "held_out"}) == "fit";
  fact.note = f.string_or("note", "");
  f.finish();
  return fact;
}

// One seed of a run: the experiment with the parameters applied.
Experiment seed_of_run(const Experiment& base, int seed_index, const std::string& gpu,
                       const ParameterValues& parameters) {
  auto x = seed_experiment(base, seed_index);
  if (x.cluster.sku.name == gpu)
    for (const auto& [name, value] : parameters) fittable(name).field(x.cluster.sku) = value;
  return x;
}

struct PowerState {
  double moe_at_cap = 0, attention_at_cap = 0, moe_clock_drop = 0, attention_clock_drop = 0;
  double prefill_clock = 0, prefill_power = 0, decode_moe_power = 0;
};

// One prefill batch of max_batched_tokens tokens in prompts of the run's fixed
// input length, balanced over the GPUs: how much of each kernel's time runs
// at the power limit and how far its clock drops, over the drawn GPUs; the
// clock and board power averaged over a whole MoE layer, as a sampling
// monitor would report a prefill's (models/power_readings.h); and a decode
// step's MoE kernel power.
PowerState power_state(const Experiment& x) {
  const PrefillBatch batch{x.serving.max_batched_tokens, x.serving.requests.lengths.input_tokens};
  const int g_count = x.cluster.num_gpus;
  const auto deployment = make_deployment(x.serving.deployment);
  double moe_total = 0, moe_capped = 0, attention_total = 0, attention_capped = 0;
  PowerState p;
  for (const auto& gpu : draw_gpus(x)) {
    const auto layer =
        prefill_layer_power(gpu, x.model, *deployment, x.cluster.sku.interconnect, g_count, batch);
    moe_total += layer.moe.duration_ns;
    attention_total += layer.attention.duration_ns;
    moe_capped += layer.moe.duration_ns * layer.moe.at_cap_fraction;
    attention_capped += layer.attention.duration_ns * layer.attention.at_cap_fraction;
    p.moe_clock_drop += (1 - layer.moe.clock_fraction) / g_count;
    p.attention_clock_drop += (1 - layer.attention.clock_fraction) / g_count;
    const auto decode = decode_moe_kernel(gpu, x.model, g_count);
    p.decode_moe_power += decode.power_w / x.cluster.sku.tdp_w / g_count;
    p.prefill_clock += layer.mean_clock / g_count;
    p.prefill_power += layer.mean_power_w / x.cluster.sku.tdp_w / g_count;
  }
  p.moe_at_cap = moe_total > 0 ? moe_capped / moe_total : 0;
  p.attention_at_cap = attention_total > 0 ? attention_capped / attention_total : 0;
  return p;
}

// Values of the metrics a run, policy and seed give.
struct SeedValues {
  TimeBreakdown::Shares shares;
  double frontier = 0;
  PowerState power;
};

using EvaluationKey = std::tuple<std::string, std::string, Evaluation>;  // run, policy, kind

// `checkpoint` (may be empty) is polled as the runs go.
SeedValues evaluate_one(const Experiment& x, const std::string& policy, Evaluation kind,
                        const PolicyRegistry& registry, const std::function<void()>& checkpoint) {
  auto one = x;
  one.policies = {policy};
  SeedValues v;
  const auto observe = ServingObservers::polling(checkpoint);
  if (kind == Evaluation::kPower) {
    v.power = power_state(one);
  } else if (kind == Evaluation::kFrontier) {
    v.frontier = slo_frontier(one, registry, observe).front().max_rate_per_gpu;
  } else {
    v.shares = run_serving(one, registry, experiment_requests(one), observe).front().time.shares();
  }
  return v;
}

double metric_value(FactMetric m, const SeedValues& v, const SeedValues* over) {
  switch (m) {
    case FactMetric::kMoeShare:
      return v.shares.moe_kernel;
    case FactMetric::kAttentionShare:
      return v.shares.attention;
    case FactMetric::kOtherShare:
      return v.shares.other;
    case FactMetric::kCommunicationShare:
      return v.shares.communication();
    case FactMetric::kFrontier:
      return v.frontier;
    case FactMetric::kFrontierRatio:
      return v.frontier / over->frontier;
    case FactMetric::kMoeTimeAtCap:
      return v.power.moe_at_cap;
    case FactMetric::kAttentionTimeAtCap:
      return v.power.attention_at_cap;
    case FactMetric::kMoeClockDrop:
      return v.power.moe_clock_drop;
    case FactMetric::kAttentionClockDrop:
      return v.power.attention_clock_drop;
    case FactMetric::kPrefillClock:
      return v.power.prefill_clock;
    case FactMetric::kPrefillPower:
      return v.power.prefill_power;
    case FactMetric::kDecodeMoePower:
      break;
  }
  return v.power.decode_moe_power;
}

}  // namespace

namespace {

// A chain of files extending one another ends within this many.
constexpr int kMaxExtendsDepth = 8;

FidelitySpec load_spec(const std::filesystem::path& path, const ConfigLocations& locations,
                       int depth);

std::vector<std::string> parse_parameters(ConfigObject& root) {
  auto parameters = root.string_list("parameters");
  for (const auto& p : parameters)
    if (!find_choice(kFittableSkuParameters, p))
      throw root.error("parameters", fmt::format("unknown parameter '{}'; fittable are: {}", p,
                                                 names_of(kFittableSkuParameters)));
  return parameters;
}

// The runs and facts of the file itself.
void parse_runs_and_facts(ConfigObject& root, const std::filesystem::path& path,
                          const ConfigLocations& locations, FidelitySpec& s) {
  s.gpu = root.string("gpu");
  s.parameters = parse_parameters(root);
  auto runs = root.object("runs");
  for (const auto& [name, value] : root.raw("runs").items()) {
    auto r = runs.object(name);
    s.runs.emplace(name, parse_run(r, path, locations));
  }
  runs.finish();
  const auto& facts = root.raw("facts");
  if (!facts.is_array() || facts.empty())
    throw root.error("facts", "expected a non-empty list of facts");
  for (std::size_t i = 0; i < facts.size(); ++i) {
    ConfigObject f(facts[i], path.string(), fmt::format("facts[{}]", i));
    s.facts.push_back(parse_fact(f, s));
  }
}

// `"extends": "BASE.json"` (relative to the file): the base's GPU, runs and
// facts, with its parameters unless the file lists its own, and the facts
// named in "fit" fitted as well.
void parse_extension(ConfigObject& root, const std::filesystem::path& path,
                     const ConfigLocations& locations, int depth, FidelitySpec& s) {
  if (depth >= kMaxExtendsDepth)
    throw root.error("extends", fmt::format("more than {} files deep; does a file extend itself?",
                                            kMaxExtendsDepth));
  const auto base_path = path.parent_path() / root.string("extends");
  std::error_code ec;  // a FIFO or a device is refused here, not read
  if (!std::filesystem::is_regular_file(base_path, ec))
    throw root.error("extends", fmt::format("{} is not a file", base_path.string()));
  const auto base = load_spec(base_path, locations, depth + 1);
  s.gpu = base.gpu;
  s.parameters = root.has("parameters") ? parse_parameters(root) : base.parameters;
  s.seeds = base.seeds;
  s.runs = base.runs;
  s.facts = base.facts;
  if (s.source.empty()) s.source = base.source;
  if (!root.has("fit")) return;
  for (const auto& name : root.string_list("fit")) {
    const auto f = std::find_if(s.facts.begin(), s.facts.end(),
                                [&](const Fact& fact) { return fact.name == name; });
    if (f == s.facts.end())
      throw root.error("fit", fmt::format("no fact named '{}' in {}", name, base.name));
    f->fitted = true;
  }
}

FidelitySpec load_spec(const std::filesystem::path& path, const ConfigLocations& locations,
                       int depth) {
  const auto json = read_json_file(path);
  ConfigObject root(json, path.string());
  FidelitySpec s;
  s.name = root.string_or("name", path.stem().string());
  s.description = root.string_or("description", "");
  s.source = root.string_or("source", "");
  if (root.has("extends"))
    parse_extension(root, path, locations, depth, s);
  else
    parse_runs_and_facts(root, path, locations, s);
  s.seeds = static_cast<int>(root.integer_or("seeds", s.seeds, 1, 100));
  root.finish();
  return s;
}

}  // namespace

FidelitySpec FidelitySpec::load(const std::filesystem::path& path,
                                const ConfigLocations& locations) {
  return load_spec(path, locations, 0);
}

namespace {

// The experiments of a spec's runs by run name, each loaded once.
using LoadedRuns = std::map<std::string, Experiment>;

// The facts evaluated (all, or the fitted ones) and the evaluations they need.
struct FactSelection {
  std::vector<const Fact*> facts;
  std::set<EvaluationKey> keys;
};

FactSelection select_facts(const FidelitySpec& spec, bool fitted_only) {
  FactSelection out;
  for (const auto& f : spec.facts) {
    if (fitted_only && !f.fitted) continue;
    out.facts.push_back(&f);
    const auto kind = evaluation_of(f.metric);
    out.keys.emplace(f.run, f.policy, kind);
    if (!f.over_run.empty()) out.keys.emplace(f.over_run, f.policy, kind);
  }
  return out;
}

// The named runs' experiments, each loaded once.
LoadedRuns load_runs(const FidelitySpec& spec, const std::set<std::string>& names,
                     const ConfigLocations& locations, const PolicyRegistry& registry) {
  LoadedRuns out;
  for (const auto& name : names) {
    const auto& r = spec.runs.at(name);
    out.emplace(name, load_experiment(r.experiment, r.overrides, locations, registry));
  }
  return out;
}

std::vector<FactResult> evaluate_loaded(const FidelitySpec& spec, const LoadedRuns& experiments,
                                        const ParameterValues& parameters, bool fitted_only,
                                        const PolicyRegistry& registry,
                                        const FidelityOptions& options) {
  const auto [facts, keys] = select_facts(spec, fitted_only);
  const std::vector<EvaluationKey> work(keys.begin(), keys.end());
  const int seeds = spec.seeds;
  std::vector<SeedValues> values(work.size() * static_cast<std::size_t>(seeds));
  std::mutex progress_lock;
  int done = 0;
  parallel_for(static_cast<int>(values.size()), options.jobs, [&](int i) {
    if (options.checkpoint) options.checkpoint();
    const auto& [run, policy, kind] = work[static_cast<std::size_t>(i / seeds)];
    const auto x = seed_of_run(experiments.at(run), i % seeds, spec.gpu, parameters);
    values[static_cast<std::size_t>(i)] =
        evaluate_one(x, policy, kind, registry, options.checkpoint);
    if (options.progress) {
      const std::lock_guard<std::mutex> guard(progress_lock);
      options.progress(fmt::format("  {}/{} evaluations ({} {} seed {})", ++done, values.size(),
                                   run, policy, i % seeds + 1));
    }
  });
  const auto at = [&](const std::string& run, const std::string& policy, Evaluation kind, int s) {
    const auto k = std::find(work.begin(), work.end(), EvaluationKey{run, policy, kind});
    return &values[static_cast<std::size_t>(k - work.begin()) * static_cast<std::size_t>(seeds) +
                   static_cast<std::size_t>(s)];
  };
  std::vector<FactResult> out;
  for (const auto* f : facts) {
    const auto kind = evaluation_of(f->metric);
    std::vector<double> per_seed;
    for (int s = 0; s < seeds; ++s)
      per_seed.push_back(
          metric_value(f->metric, *at(f->run, f->policy, kind, s),
                       f->over_run.empty() ? nullptr : at(f->over_run, f->policy, kind, s)));
    out.push_back({f, mean_interval_95(per_seed)});
  }
  return out;
}

}  // namespace

std::vector<FactResult> evaluate_facts(const FidelitySpec& spec, const ParameterValues& parameters,
                                       bool fitted_only, const ConfigLocations& locations,
                                       const PolicyRegistry& registry,
                                       const FidelityOptions& options) {
  std::set<std::string> runs;  // those the selected facts evaluate
  for (const auto& key : select_facts(spec, fitted_only).keys) runs.insert(std::get<0>(key));
  return evaluate_loaded(spec, load_runs(spec, runs, locations, registry), parameters, fitted_only,
                         registry, options);
}

namespace {

// The fitted facts of one evaluation kind: shares fit the efficiencies'
// ratios, frontiers their common scale, power facts the power window. Each
// step fits only the parameters it owns.
FidelitySpec with_fitted_facts(const FidelitySpec& spec, Evaluation kind) {
  auto out = spec;
  out.facts.clear();
  for (const auto& f : spec.facts)
    if (f.fitted && evaluation_of(f.metric) == kind) out.facts.push_back(f);
  std::erase_if(out.parameters, [&](const std::string& p) {
    return is_power_parameter(p) != (kind == Evaluation::kPower);
  });
  return out;
}

Eigen::VectorXd residuals(const std::vector<FactResult>& results) {
  Eigen::VectorXd r(static_cast<Eigen::Index>(results.size()));
  for (std::size_t i = 0; i < results.size(); ++i)
    r(static_cast<Eigen::Index>(i)) = results[i].simulated.mean - results[i].fact->paper;
  return r;
}

ParameterValues shipped_values(const FidelitySpec& spec, const LoadedRuns& runs) {
  for (const auto& [name, x] : runs) {
    if (x.cluster.sku.name != spec.gpu) continue;
    auto sku = x.cluster.sku;  // a field is read through a mutable reference
    ParameterValues v;
    for (const auto& p : spec.parameters) v[p] = fittable(p).field(sku);
    return v;
  }
  throw InputError(
      fmt::format("fidelity: no run uses GPU '{}', so nothing can be fitted", spec.gpu));
}

// Values with every parameter but the first at exp(log_ratios) times the first's.
ParameterValues with_ratios(const FidelitySpec& spec, const ParameterValues& v,
                            const Eigen::VectorXd& log_ratios) {
  auto out = v;
  const double anchor = v.at(spec.parameters[0]);
  for (std::size_t i = 1; i < spec.parameters.size(); ++i)
    out[spec.parameters[i]] =
        std::min(1.0, anchor * std::exp(log_ratios(static_cast<Eigen::Index>(i - 1))));
  return out;
}

Eigen::VectorXd log_ratios_of(const FidelitySpec& spec, const ParameterValues& v) {
  Eigen::VectorXd x(static_cast<Eigen::Index>(spec.parameters.size() - 1));
  for (std::size_t i = 1; i < spec.parameters.size(); ++i)
    x(static_cast<Eigen::Index>(i - 1)) =
        std::log(v.at(spec.parameters[i]) / v.at(spec.parameters[0]));
  return x;
}

// How one Gauss-Newton search runs (gauss_newton).
struct GaussNewtonSettings {
  const char* label;             // in progress lines: "  LABEL: iteration K, residual norm R"
  double difference_step;        // of the forward differences, in x
  int max_iterations, halvings;  // of the steps, and of one step when it does not improve
  double converged_step;         // stop once a step's norm is below this
};

// Least squares on residuals(x) by Gauss-Newton: forward-difference Jacobian
// (backwards at an upper bound), Eigen's column-pivoting QR, step halving
// until the residual norm falls, x kept in [lo, hi]: a coordinate at a bound
// that the step pushes past stays there and the others are solved for again
// without it (an active set). Stops when no halving improves, after a step
// under `converged_step`, or after `max_iterations`.
Eigen::VectorXd gauss_newton(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& residuals_at, Eigen::VectorXd x,
    const Eigen::VectorXd& lo, const Eigen::VectorXd& hi, const GaussNewtonSettings& how,
    const FidelityOptions& options) {
  auto r = residuals_at(x);
  for (int iteration = 0; iteration < how.max_iterations; ++iteration) {
    Eigen::MatrixXd jacobian(r.size(), x.size());
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      const double h =
          x(j) + how.difference_step <= hi(j) ? how.difference_step : -how.difference_step;
      auto xj = x;
      xj(j) += h;
      jacobian.col(j) = (residuals_at(xj) - r) / h;
    }
    Eigen::VectorXd step = jacobian.colPivHouseholderQr().solve(-r);
    bool at_bound = false;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      if ((x(i) <= lo(i) && step(i) < 0) || (x(i) >= hi(i) && step(i) > 0)) {
        jacobian.col(i).setZero();
        at_bound = true;
      }
    if (at_bound) step = jacobian.colPivHouseholderQr().solve(-r);
    const double norm = r.norm();
    bool improved = false;
    for (int halving = 0; halving < how.halvings && !improved; ++halving, step /= 2) {
      const Eigen::VectorXd candidate = (x + step).cwiseMax(lo).cwiseMin(hi);
      if (const auto rc = residuals_at(candidate); rc.norm() < norm) {
        x = candidate;
        r = rc;
        improved = true;
      }
    }
    if (options.progress)
      options.progress(fmt::format("  {}: iteration {}, residual norm {:.5f}", how.label,
                                   iteration + 1, r.norm()));
    if (!improved || step.norm() < how.converged_step) break;
  }
  return x;
}

// The shares fit the parameters' ratios to the first (their logs), unbounded.
ParameterValues fit_ratios(const FidelitySpec& shares, const ParameterValues& start,
                           const LoadedRuns& runs, const PolicyRegistry& registry,
                           const FidelityOptions& options) {
  const auto residuals_at = [&](const Eigen::VectorXd& log_ratios) {
    return residuals(evaluate_loaded(shares, runs, with_ratios(shares, start, log_ratios), true,
                                     registry, {options.jobs, options.checkpoint, nullptr}));
  };
  const auto x = log_ratios_of(shares, start);
  const double infinity = std::numeric_limits<double>::infinity();
  const Eigen::VectorXd lo = Eigen::VectorXd::Constant(x.size(), -infinity);
  const Eigen::VectorXd hi = Eigen::VectorXd::Constant(x.size(), infinity);
  return with_ratios(shares, start,
                     gauss_newton(residuals_at, x, lo, hi, {"shares", 0.02, 10, 6, 1e-3}, options));
}

// One common factor on every parameter until the frontier facts' mean
// relative error is under 1 % (frontiers scale about in proportion).
ParameterValues fit_scale(const FidelitySpec& scale_facts, ParameterValues v,
                          const LoadedRuns& runs, const PolicyRegistry& registry,
                          const FidelityOptions& options, bool& converged) {
  converged = false;
  for (int iteration = 0; iteration < 8; ++iteration) {
    const auto results = evaluate_loaded(scale_facts, runs, v, true, registry,
                                         {options.jobs, options.checkpoint, nullptr});
    double log_ratio = 0;
    for (const auto& r : results) log_ratio += std::log(r.fact->paper / r.simulated.mean);
    log_ratio /= static_cast<double>(results.size());
    if (options.progress)
      options.progress(fmt::format("  scale: iteration {}, paper / simulated = {:.4f}",
                                   iteration + 1, std::exp(log_ratio)));
    if (std::abs(log_ratio) < 0.01) {
      converged = iteration == 0;
      return v;
    }
    for (const auto& name : scale_facts.parameters)
      v[name] = std::min(1.0, v[name] * std::exp(log_ratio));
  }
  return v;
}

// The power window alone by golden-section search over log10 of it in [-6, 0]
// (1 us to 1 s) on the squared residuals of the power facts. `moved` is
// false when it changed by under 1 %.
ParameterValues fit_window(const FidelitySpec& power_facts, ParameterValues v,
                           const LoadedRuns& runs, const PolicyRegistry& registry,
                           const FidelityOptions& options, bool& moved) {
  const auto cost = [&](double log10_window) {
    v[kPowerWindowParameter] = std::pow(10.0, log10_window);
    return residuals(evaluate_loaded(power_facts, runs, v, true, registry,
                                     {options.jobs, options.checkpoint, nullptr}))
        .squaredNorm();
  };
  const double before = v[kPowerWindowParameter];
  const double golden = (std::sqrt(5.0) - 1) / 2;
  double lo = -6, hi = 0;
  double a = hi - golden * (hi - lo), b = lo + golden * (hi - lo);
  double cost_a = cost(a), cost_b = cost(b);
  for (int i = 0; i < 40; ++i) {
    if (cost_a <= cost_b) {
      hi = b, b = a, cost_b = cost_a;
      a = hi - golden * (hi - lo), cost_a = cost(a);
    } else {
      lo = a, a = b, cost_a = cost_b;
      b = lo + golden * (hi - lo), cost_b = cost(b);
    }
  }
  const double window = std::pow(10.0, (lo + hi) / 2);
  v[kPowerWindowParameter] = window;
  if (options.progress)
    options.progress(fmt::format("  power window: {:.4g} s, residual norm {:.4f}", window,
                                 std::sqrt(std::min(cost_a, cost_b))));
  moved = std::abs(window - before) > 0.01 * before;
  return v;
}

// Several power parameters by Gauss-Newton on their logarithms (all are
// positive), each kept in its fittable range, on the power facts' residuals.
// An instantaneous limit (window 0) starts from 1 ms. `moved` is false when
// none changed by 1 %.
ParameterValues fit_power_constants(const FidelitySpec& power_facts, const ParameterValues& v,
                                    const LoadedRuns& runs, const PolicyRegistry& registry,
                                    const FidelityOptions& options, bool& moved) {
  const auto& names = power_facts.parameters;
  const auto n = static_cast<Eigen::Index>(names.size());
  Eigen::VectorXd lo(n), hi(n), x(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& name = names[static_cast<std::size_t>(i)];
    lo(i) = std::log(fittable(name).min);
    hi(i) = std::log(fittable(name).max);
    const double value = v.at(name) > 0 ? v.at(name) : 1e-3;  // only the window can be 0
    x(i) = std::clamp(std::log(value), lo(i), hi(i));
  }
  const auto with = [&](const Eigen::VectorXd& logs) {
    auto out = v;
    for (Eigen::Index i = 0; i < n; ++i)
      out[names[static_cast<std::size_t>(i)]] = std::exp(logs(i));
    return out;
  };
  const auto residuals_at = [&](const Eigen::VectorXd& logs) {
    return residuals(evaluate_loaded(power_facts, runs, with(logs), true, registry,
                                     {options.jobs, options.checkpoint, nullptr}));
  };
  const auto fitted = gauss_newton(residuals_at, x, lo, hi, {"power", 0.01, 20, 8, 1e-4}, options);
  moved = ((fitted - x).array().abs() > std::log(1.01)).any();
  return with(fitted);
}

}  // namespace

FitOutcome fit_parameters(const FidelitySpec& spec, const ConfigLocations& locations,
                          const PolicyRegistry& registry, const FidelityOptions& options) {
  const auto shares = with_fitted_facts(spec, Evaluation::kServing);
  const auto scale = with_fitted_facts(spec, Evaluation::kFrontier);
  const auto power = with_fitted_facts(spec, Evaluation::kPower);
  std::set<std::string> names;
  for (const auto& [name, run] : spec.runs) names.insert(name);
  const auto runs = load_runs(spec, names, locations, registry);
  FitOutcome out;
  out.start = shipped_values(spec, runs);
  constexpr int kMaxRounds = 4;
  auto v = out.start;
  for (bool settled = false; !settled && out.rounds < kMaxRounds;) {
    ++out.rounds;
    if (options.progress) options.progress(fmt::format("round {}", out.rounds));
    if (!shares.facts.empty() && shares.parameters.size() > 1)
      v = fit_ratios(shares, v, runs, registry, options);
    settled = true;  // the scale needed no change: the ratios were fitted at the final scale
    if (!scale.facts.empty() && !scale.parameters.empty())
      v = fit_scale(scale, v, runs, registry, options, settled);
    bool power_moved = false;
    if (!power.facts.empty() && power.parameters == std::vector<std::string>{kPowerWindowParameter})
      v = fit_window(power, v, runs, registry, options, power_moved);
    else if (!power.facts.empty() && !power.parameters.empty())
      v = fit_power_constants(power, v, runs, registry, options, power_moved);
    settled = settled && !power_moved;
  }
  out.fitted = v;
  out.fitted_facts = evaluate_loaded(spec, runs, v, true, registry, options);
  return out;
}

std::string fidelity_table_markdown(const std::vector<FactResult>& results) {
  std::string out =
      "| fact | paper | simulator [95 % interval] | error | role |\n|---|---|---|---|---|\n";
  for (const auto& r : results) {
    const auto& s = r.simulated;
    out += fmt::format("| {} | {:.4g} | {:.4g} [{:.4g}, {:.4g}] | {:+.1f} % | {} |\n", r.fact->name,
                       r.fact->paper, s.mean, s.low, s.high, 100 * r.relative_error(),
                       r.fact->fitted ? "fitted" : "held out");
  }
  return out;
}

nlohmann::ordered_json fidelity_results_json(const FidelitySpec& spec,
                                             const ParameterValues& parameters,
                                             const std::vector<FactResult>& results) {
  nlohmann::ordered_json facts = nlohmann::ordered_json::array();
  for (const auto& r : results)
    facts.push_back(
        {{"name", r.fact->name},
         {"metric", name_of(kFactMetrics, r.fact->metric)},
         {"run", r.fact->run},
         {"policy", r.fact->policy},
         {"role", r.fact->fitted ? "fit" : "held_out"},
         {"paper", r.fact->paper},
         {"simulated", {{"mean", r.simulated.mean}, {"ci95", {r.simulated.low, r.simulated.high}}}},
         {"relative_error", r.relative_error()}});
  nlohmann::ordered_json p = nlohmann::ordered_json::object();
  for (const auto& [name, value] : parameters) p[name] = value;
  return {{"facts_file", spec.name},
          {"gpu", spec.gpu},
          {"seeds", spec.seeds},
          {"parameters_applied", p},
          {"facts", facts}};
}

nlohmann::ordered_json FitOutcome::to_json(const FidelitySpec& spec) const {
  nlohmann::ordered_json from = nlohmann::ordered_json::object(),
                         to = nlohmann::ordered_json::object();
  for (const auto& p : spec.parameters) {
    from[p] = start.at(p);
    to[p] = fitted.at(p);
  }
  auto results = fidelity_results_json(spec, fitted, fitted_facts);
  return {{"gpu", spec.gpu},
          {"facts_file", spec.name},
          {"seeds", spec.seeds},
          {"rounds", rounds},
          {"parameters", to},
          {"started_from", from},
          {"fitted_facts", results["facts"]}};
}

ParameterValues load_parameter_values(const std::filesystem::path& path, const FidelitySpec& spec) {
  const auto json = read_json_file(path);
  ConfigObject root(json, path.string());
  const auto gpu = root.string("gpu");
  if (gpu != spec.gpu)
    throw root.error("gpu",
                     fmt::format("the parameters are for '{}', the facts for '{}'", gpu, spec.gpu));
  ParameterValues v;
  auto p = root.object("parameters");
  for (const auto& [name, value] : root.raw("parameters").items()) {
    if (!find_choice(kFittableSkuParameters, name))
      throw p.error(name, fmt::format("unknown parameter; fittable are: {}",
                                      names_of(kFittableSkuParameters)));
    const auto range = fittable(name);
    v[name] = p.number(name, range.min, range.max);
  }
  p.finish();
  return v;
}

}  // namespace vibesim
