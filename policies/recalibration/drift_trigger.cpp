// The paper's Phase 3: every `check_every` passes (H), outside the cooldown
// after a re-placement, compare each layer's window mean with the loads the
// placement in force was made from; if any layer's cosine distance exceeds
// `threshold` (delta), re-place incrementally from the placement in force.
#include "policies/recalibration.h"

namespace vibesim {

namespace {

class DriftTrigger final : public RecalibrationTrigger {
 public:
  DriftTrigger(int check_every, int cooldown, double threshold)
      : check_every_(check_every), cooldown_(cooldown), threshold_(threshold) {}
  Replacement after_pass(const RecalibrationController& state) const override {
    if (state.passes() % check_every_ != 0 || state.passes_since_placement() < cooldown_)
      return Replacement::kNone;
    return state.max_cosine_distance() > threshold_ ? Replacement::kIncremental
                                                    : Replacement::kNone;
  }

 private:
  int check_every_, cooldown_;
  double threshold_;
};

}  // namespace

std::unique_ptr<const RecalibrationTrigger> make_drift_trigger(int check_every, int cooldown,
                                                               double threshold) {
  return std::make_unique<DriftTrigger>(check_every, cooldown, threshold);
}

}  // namespace vibesim
