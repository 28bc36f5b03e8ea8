// ShareGPT-like lengths: lognormal, means ~219 tokens in (sigma 1.0) and ~201
// out (sigma 0.9), heavy-tailed; clamped to [4, 8192] in and [4, 4096] out.
#include <algorithm>
#include <cmath>

#include "traces/length_sampler.h"

namespace vibesim {

namespace {

class ShareGptLengths final : public RequestLengthSampler {
 public:
  RequestLengths next(RandomEngine& rng) override {
    const auto in = std::clamp<std::int64_t>(std::llround(input_(rng)), 4, 8192);
    const auto out = std::clamp<std::int64_t>(std::llround(output_(rng)), 4, 4096);
    return {in, out};
  }

 private:
  // The log-mean puts the mean (not the median) at the target: mu = ln(mean) - sigma^2 / 2.
  std::lognormal_distribution<double> input_{std::log(219.0) - 0.5 * 1.0, 1.0};
  std::lognormal_distribution<double> output_{std::log(201.0) - 0.5 * 0.9 * 0.9, 0.9};
};

}  // namespace

std::unique_ptr<RequestLengthSampler> make_sharegpt_lengths() {
  return std::make_unique<ShareGptLengths>();
}

}  // namespace vibesim
