#pragma once
// A serving run's request stream (experiment key `serving.requests`): a
// recorded trace (traces/request_trace.h) or a generator — an arrival process
// (traces/arrival_process.h) and a length distribution
// (traces/length_sampler.h), each a registry of implementations, one file each.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"
#include "io/config_path.h"
#include "traces/request_trace.h"

namespace vibesim {

class ConfigObject;

enum class LengthDistribution { kFixed, kShareGpt, kTrace };
inline constexpr ChoiceTable<LengthDistribution, 3> kLengthDistributions{{
    {"fixed", LengthDistribution::kFixed, "every request input_tokens in, output_tokens out"},
    {"sharegpt", LengthDistribution::kShareGpt,
     "ShareGPT-like lognormal lengths (means ~219 in, ~201 out)"},
    {"trace", LengthDistribution::kTrace, "lengths resampled from the request trace at `path`"},
}};

struct RequestLengthSpec {
  LengthDistribution kind = LengthDistribution::kFixed;
  std::int64_t input_tokens = 1024, output_tokens = 128;  // fixed (Sonnet-like)
  ConfigPath trace;                                       // trace: lengths resampled from it

  static RequestLengthSpec parse(ConfigObject& lengths);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

enum class RequestSource { kTrace, kPoisson, kGamma };
inline constexpr ChoiceTable<RequestSource, 3> kRequestSources{{
    {"trace", RequestSource::kTrace, "replays a request trace (.csv Azure format, .jsonl)"},
    {"poisson", RequestSource::kPoisson, "Poisson arrivals at rate_per_gpu x GPUs"},
    {"gamma", RequestSource::kGamma,
     "Gamma inter-arrival times (bursty; coefficient of variation burstiness_cv)"},
}};

// Where a serving run's requests come from (experiment key `serving.requests`).
struct RequestStreamSpec {
  RequestSource source = RequestSource::kPoisson;
  ConfigPath trace;  // trace: key `path`
  // Generators: how many requests; a trace: replay only its first `count` (0 = all).
  std::int64_t count = 1000;
  // Generators (poisson, gamma):
  double rate_per_gpu = 1;   // requests/s per GPU
  double burstiness_cv = 2;  // gamma: coefficient of variation of inter-arrival times
  RequestLengthSpec lengths;

  static RequestStreamSpec parse(ConfigObject& requests);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Generates `spec.count` requests (spec.source poisson or gamma) at `rate_per_s`.
// `trace_lengths` holds the requests to resample lengths from (lengths.kind
// trace). Throws InputError if the arrivals would span more than
// kMaxArrivalSpanMs.
std::vector<Request> generate_requests(const RequestStreamSpec& spec, double rate_per_s,
                                       std::uint64_t seed,
                                       const std::vector<Request>& trace_lengths);

}  // namespace vibesim
