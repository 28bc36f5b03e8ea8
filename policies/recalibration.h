#pragma once
// When to re-place experts while serving, from the routing actually seen:
//  - never: the first placement stays (vLLM's static layout, or a one-off EPLB);
//  - every_k_steps: a full re-solve every k forward passes on the recent
//    window, how vLLM and SGLang run EPLB;
//  - drift: the paper's Phase 3. Every `check_every` passes (H) compare, per
//    layer, the window mean w with the reference w^ the placement in force was
//    made from; if any layer's cosine distance 1 - w.w^/(|w||w^|) exceeds
//    `threshold` (delta), re-place incrementally from the placement in force
//    and cool down for `cooldown` passes.
// One controller per policy run; it sees only per-expert counts, as a real
// deployment's expert-distribution recorder would. The controller keeps the
// window and the reference; the decision is a RecalibrationTrigger, one
// implementation per file in policies/recalibration/, chosen by the
// `recalibration.controller` table below.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"

namespace vibesim {

class ConfigObject;

enum class RecalibrationKind { kNever, kEveryKSteps, kDrift };
inline constexpr ChoiceTable<RecalibrationKind, 3> kRecalibrationControllers{{
    {"never", RecalibrationKind::kNever, "the first placement stays"},
    {"every_k_steps", RecalibrationKind::kEveryKSteps,
     "a full re-solve every every_k_steps passes on the recent window (vLLM, SGLang EPLB)"},
    {"drift", RecalibrationKind::kDrift,
     "the paper's cosine-distance test every check_every passes; incremental re-placement"},
}};

// Experiment key `recalibration`.
struct RecalibrationSpec {
  RecalibrationKind controller = RecalibrationKind::kNever;
  int every_k_steps = 100;  // every_k_steps: passes between re-solves
  int window = 100;         // passes in the sliding window of recent loads
  int check_every = 10;     // drift: H, passes between cosine tests
  double threshold = 0.05;  // drift: delta, cosine distance that triggers
  int cooldown = 10;        // drift: passes after a re-placement with no test
  // Re-run the profiling micro-benchmark before each re-placement, so the
  // policy sees the GPUs as they are now (throttled, drifted), not as profiled at start.
  bool reprofile = false;
  // Bytes of expert weights one re-placement may copy, in GB (1e9 bytes); 0 =
  // no limit. Over it, only the layers that gain most per copy change.
  double migration_budget_gb = 0;
  // Predicted gain one GB of copies must buy, in microseconds of a layer's
  // predicted latency per step; 0 = none. A layer whose re-placement gains
  // less than this price times the GB it copies keeps its old placement.
  double migration_price_us_per_gb = 0;

  static RecalibrationSpec parse(ConfigObject& recalibration);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

enum class Replacement { kNone, kFullResolve, kIncremental };

class RecalibrationController;

// Decides after each pass whether to re-place. Contract: a pure function of
// the controller's state; must not keep references into it.
class RecalibrationTrigger {
 public:
  virtual ~RecalibrationTrigger() = default;
  [[nodiscard]] virtual Replacement after_pass(const RecalibrationController& state) const = 0;
  // False when no pass can ever trigger: the controller then keeps no window.
  [[nodiscard]] virtual bool watches_routing() const { return true; }
};

// Implementations (policies/recalibration/), and the one the spec names.
std::unique_ptr<const RecalibrationTrigger> make_never_trigger();
std::unique_ptr<const RecalibrationTrigger> make_every_k_steps_trigger(int every_k_steps);
std::unique_ptr<const RecalibrationTrigger> make_drift_trigger(int check_every, int cooldown,
                                                               double threshold);
std::unique_ptr<const RecalibrationTrigger> make_recalibration_trigger(
    const RecalibrationSpec& spec);

class RecalibrationController {
 public:
  // `reference_loads` ([layer][expert]): what the initial placement was made from.
  RecalibrationController(const RecalibrationSpec& spec,
                          std::vector<std::vector<double>> reference_loads);

  // Records one forward pass (counts[layer][expert]) and says whether to re-place now.
  Replacement observe_pass(std::span<const std::vector<std::int32_t>> counts);
  // The loads a re-placement should use: the mean over the window ([layer][expert]).
  [[nodiscard]] std::vector<std::vector<double>> window_loads() const;
  // Tells the controller a placement was made from `loads`, the new reference.
  void placed(std::vector<std::vector<double>> loads);

  // The largest per-layer cosine distance between the window and the reference.
  [[nodiscard]] double max_cosine_distance() const;
  [[nodiscard]] std::int64_t passes() const { return passes_; }
  [[nodiscard]] std::int64_t passes_since_placement() const { return passes_ - last_placed_; }

 private:
  RecalibrationSpec spec_;
  std::unique_ptr<const RecalibrationTrigger> trigger_;
  std::vector<std::vector<double>> reference_;
  std::vector<std::vector<std::vector<std::int32_t>>> ring_;  // window passes, oldest overwritten
  std::vector<std::vector<double>> window_sum_;               // [layer][expert]
  std::size_t next_ = 0;                                      // ring slot the next pass goes to
  std::int64_t passes_ = 0;                                   // passes observed
  std::int64_t last_placed_ = 0;                              // pass count at the last re-placement
};

}  // namespace vibesim
