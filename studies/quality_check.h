#pragma once
// Policy quality as a CI gate (`vibesim check BASELINE.json`): a baseline
// lists small experiments and what each must hold — an ordering of policies
// on a metric, a metric within a tolerance of its recorded value, EPLB's
// placement identical to the reference answer. `run_checks` measures them
// (over seeds, on threads) and says which regressed; `--update` records the
// measured values back into the baseline. docs/check.md.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"
#include "io/config_locations.h"
#include "policies/policy_registry.h"

namespace vibesim {

enum class CheckKind { kOrder, kValue, kEplbReference };
extern const ChoiceTable<CheckKind, 3> kCheckKinds;

struct QualityCheck {
  std::string name;
  CheckKind kind = CheckKind::kOrder;
  // order and value: an experiment (a name or a .json path relative to the
  // baseline), overrides, seeds, whether to search the SLO frontier.
  std::filesystem::path experiment;
  std::vector<std::string> overrides;
  int seeds = 1;
  bool frontier = false;
  std::string metric;              // a headline metric of summary.json
  std::vector<std::string> order;  // order: best first (lower is better unless higher_is_better)
  bool higher_is_better = false;   // order
  std::string policy;              // value
  double tolerance = 0;            // relative
  double recorded = 0;             // value
  // eplb_reference: per-layer loads, the EPLB shape, the expected physical-to-logical maps.
  std::vector<std::vector<double>> loads;
  int replicas = 0, groups = 0, nodes = 0, gpus = 0;
  std::vector<std::vector<int>> recorded_placement;
};

struct Baseline {
  std::filesystem::path file;
  std::string name, description;
  std::vector<QualityCheck> checks;

  // InputError naming the file and key for anything malformed.
  static Baseline load(const std::filesystem::path& path, const ConfigLocations& locations);
};

struct CheckOutcome {
  const QualityCheck* check = nullptr;
  bool passed = false;
  std::string expected, measured;  // for people
  nlohmann::json measured_value;   // what --update records (value and eplb_reference)
};

struct CheckOptions {
  int jobs = 1;
  std::function<void()> checkpoint;
};

std::vector<CheckOutcome> run_checks(const Baseline& baseline, const ConfigLocations& locations,
                                     const PolicyRegistry& registry, const CheckOptions& options);

// The baseline file's text with every value and eplb_reference check's
// recorded value replaced by the measured one (key order kept), and a line
// per change ("name: old -> new").
struct BaselineUpdate {
  std::string text;
  std::vector<std::string> changes;
};
BaselineUpdate updated_baseline(const Baseline& baseline,
                                const std::vector<CheckOutcome>& outcomes);

}  // namespace vibesim
