#include "traces/length_sampler.h"

namespace vibesim {

std::unique_ptr<RequestLengthSampler> make_length_sampler(
    const RequestLengthSpec& spec, const std::vector<Request>& trace_lengths) {
  switch (spec.kind) {
    case LengthDistribution::kShareGpt:
      return make_sharegpt_lengths();
    case LengthDistribution::kTrace:
      return make_trace_lengths(trace_lengths);
    case LengthDistribution::kFixed:
      break;
  }
  return make_fixed_lengths({spec.input_tokens, spec.output_tokens});
}

}  // namespace vibesim
