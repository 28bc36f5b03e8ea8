// A full re-solve every k passes on the recent window: how vLLM and SGLang
// run EPLB (their rebalance interval).
#include "policies/recalibration.h"

namespace vibesim {

namespace {

class EveryKStepsTrigger final : public RecalibrationTrigger {
 public:
  explicit EveryKStepsTrigger(int k) : k_(k) {}
  Replacement after_pass(const RecalibrationController& state) const override {
    return state.passes() % k_ == 0 ? Replacement::kFullResolve : Replacement::kNone;
  }

 private:
  int k_;
};

}  // namespace

std::unique_ptr<const RecalibrationTrigger> make_every_k_steps_trigger(int every_k_steps) {
  return std::make_unique<EveryKStepsTrigger>(every_k_steps);
}

}  // namespace vibesim
