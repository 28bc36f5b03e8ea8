// Every request the same lengths (the paper's Sonnet-like 1024 in, 128 out).
#include "traces/length_sampler.h"

namespace vibesim {

namespace {

class FixedLengths final : public RequestLengthSampler {
 public:
  explicit FixedLengths(RequestLengths lengths) : lengths_(lengths) {}
  RequestLengths next(RandomEngine&) override { return lengths_; }

 private:
  RequestLengths lengths_;
};

}  // namespace

std::unique_ptr<RequestLengthSampler> make_fixed_lengths(RequestLengths lengths) {
  return std::make_unique<FixedLengths>(lengths);
}

}  // namespace vibesim
