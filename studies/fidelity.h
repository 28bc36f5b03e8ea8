#pragma once
// Fidelity (`vibesim fidelity fit|report`): the simulator held to measured
// facts. A facts file names runs (an experiment and overrides), the facts
// measured on them (a time share, an SLO frontier, a ratio of frontiers, a
// power state), each marked `fit` or `held_out`, and the GPU SKU parameters
// the fit may change. `fit` calibrates those parameters on the `fit` facts
// only; `report` evaluates every fact over seeds, with 95 % intervals, so the
// held-out ones test the calibration. docs/fidelity.md.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"
#include "io/config_locations.h"
#include "models/gpu_sku.h"
#include "outputs/seed_summary.h"
#include "policies/policy_registry.h"

namespace vibesim {

// A SKU parameter the fit may set (a model constant without a data-sheet
// value): where it lives and the range a fit may give it.
struct FittableParameter {
  double& (*field)(GpuSku&);
  double min, max;
};
// The power parameters ("power." ones: the window and the power-model constants)
// are fitted on the power facts, the others on the shares and frontiers.
inline constexpr const char* kPowerWindowParameter = "power.limit_window_s";
extern const ChoiceTable<FittableParameter, 8> kFittableSkuParameters;
[[nodiscard]] bool is_power_parameter(const std::string& name);

enum class FactMetric {
  kMoeShare,            // time share of the MoE expert kernels (serving run)
  kAttentionShare,      // ... of attention
  kOtherShare,          // ... of dense FFN and shared experts
  kCommunicationShare,  // ... of collectives and the waits inside them
  kFrontier,            // SLO frontier, requests/s per GPU
  kFrontierRatio,       // frontier of `run` over that of `over_run`, same policy
  kMoeTimeAtCap,        // fraction of MoE kernel time at the power limit (prefill batch)
  kAttentionTimeAtCap,
  kMoeClockDrop,  // 1 - mean clock fraction during the MoE kernel
  kAttentionClockDrop,
  kPrefillClock,    // mean clock fraction over a prefill layer's kernels and collectives
  kPrefillPower,    // mean board power / TDP over the same layer
  kDecodeMoePower,  // MoE kernel power / TDP in a decode step of 256 sequences
};
extern const ChoiceTable<FactMetric, 13> kFactMetrics;

struct FidelityRun {
  std::filesystem::path experiment;
  std::vector<std::string> overrides;  // as `vibesim run --set` takes them
};

struct Fact {
  std::string name;
  FactMetric metric = FactMetric::kFrontier;
  std::string run, over_run;  // names in FidelitySpec::runs (over_run: ratios only)
  std::string policy;
  double paper = 0;
  bool fitted = false;  // role "fit"; else "held_out"
  std::string note;
};

struct FidelitySpec {
  std::string name, description, source;
  std::string gpu;  // the SKU the parameters belong to
  std::vector<std::string>
      parameters;  // kFittableSkuParameters names; the first anchors the ratios
  int seeds = 3;
  std::map<std::string, FidelityRun> runs;
  std::vector<Fact> facts;

  // InputError naming the file and key for anything malformed.
  static FidelitySpec load(const std::filesystem::path& path, const ConfigLocations& locations);
};

using ParameterValues = std::map<std::string, double>;  // parameter name -> value

struct FactResult {
  const Fact* fact = nullptr;
  MeanInterval simulated;  // over seeds
  [[nodiscard]] double relative_error() const { return simulated.mean / fact->paper - 1.0; }
};

struct FidelityOptions {
  int jobs = 1;
  std::function<void()> checkpoint;
  std::function<void(const std::string&)> progress;  // a line per step of long work
};

// Every fact (or only the fitted ones), with `parameters` applied to the
// experiments' SKU where it is the spec's GPU (empty: the SKU as shipped).
std::vector<FactResult> evaluate_facts(const FidelitySpec& spec, const ParameterValues& parameters,
                                       bool fitted_only, const ConfigLocations& locations,
                                       const PolicyRegistry& registry,
                                       const FidelityOptions& options);

struct FitOutcome {
  ParameterValues start, fitted;
  std::vector<FactResult> fitted_facts;  // at the fitted values
  int rounds = 0;
  [[nodiscard]] nlohmann::ordered_json to_json(const FidelitySpec& spec) const;
};

// Calibrates spec.parameters on the `fit` facts, starting from the SKU as
// shipped: Gauss-Newton (Eigen) on the time shares for the parameters'
// ratios to the first, then one common scale for the frontier facts, in
// alternation. The time shares do not depend on a common scale (nearly: the
// latency floors and launch overheads do not scale), which is why the two
// halves separate. The power parameters, when listed, are fitted after them
// on the power facts: the window alone by golden-section search, several by
// Gauss-Newton on their logarithms; rounds repeat until no step moves its
// parameters.
FitOutcome fit_parameters(const FidelitySpec& spec, const ConfigLocations& locations,
                          const PolicyRegistry& registry, const FidelityOptions& options);

// The table docs/fidelity.md holds: fact, paper, simulator [95 % interval],
// error, role. Markdown, and JSON for tools.
std::string fidelity_table_markdown(const std::vector<FactResult>& results);
nlohmann::ordered_json fidelity_results_json(const FidelitySpec& spec,
                                             const ParameterValues& parameters,
                                             const std::vector<FactResult>& results);

// A fit's output file: {"gpu": ..., "parameters": {name: value}}.
ParameterValues load_parameter_values(const std::filesystem::path& path, const FidelitySpec& spec);

}  // namespace vibesim
