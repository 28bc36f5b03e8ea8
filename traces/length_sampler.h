#pragma once
// How long generated requests are: an interface with one implementation per
// file in traces/lengths/, chosen by `serving.requests.lengths.kind`
// (kLengthDistributions, traces/request_stream.h).
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "base/random_engine.h"
#include "traces/request_stream.h"

namespace vibesim {

struct RequestLengths {
  std::int64_t input_tokens = 0, output_tokens = 0;
};

class RequestLengthSampler {
 public:
  virtual ~RequestLengthSampler() = default;
  // The next request's lengths, drawn from `rng`.
  virtual RequestLengths next(RandomEngine& rng) = 0;
};

// Implementations (traces/lengths/).
std::unique_ptr<RequestLengthSampler> make_fixed_lengths(RequestLengths lengths);
std::unique_ptr<RequestLengthSampler> make_sharegpt_lengths();
// `requests` (non-empty) must outlive the sampler.
std::unique_ptr<RequestLengthSampler> make_trace_lengths(const std::vector<Request>& requests);

// The sampler `spec` names; `trace_lengths` feeds kind trace.
std::unique_ptr<RequestLengthSampler> make_length_sampler(
    const RequestLengthSpec& spec, const std::vector<Request>& trace_lengths);

}  // namespace vibesim
