// The first placement stays (vLLM's static layout, or a one-off EPLB).
#include "policies/recalibration.h"

namespace vibesim {

namespace {

class NeverTrigger final : public RecalibrationTrigger {
 public:
  Replacement after_pass(const RecalibrationController&) const override {
    return Replacement::kNone;
  }
  bool watches_routing() const override { return false; }
};

}  // namespace

std::unique_ptr<const RecalibrationTrigger> make_never_trigger() {
  return std::make_unique<NeverTrigger>();
}

}  // namespace vibesim
