// Lengths resampled uniformly (with replacement) from a recorded trace.
#include "traces/length_sampler.h"

namespace vibesim {

namespace {

class TraceLengths final : public RequestLengthSampler {
 public:
  explicit TraceLengths(const std::vector<Request>& requests) : requests_(requests) {}
  RequestLengths next(RandomEngine& rng) override {
    const auto& r =
        requests_[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(requests_.size()))];
    return {r.input_tokens, r.output_tokens};
  }

 private:
  const std::vector<Request>& requests_;
};

}  // namespace

std::unique_ptr<RequestLengthSampler> make_trace_lengths(const std::vector<Request>& requests) {
  return std::make_unique<TraceLengths>(requests);
}

}  // namespace vibesim
