#pragma once
// Serving requests: when each arrives and how many tokens it reads and writes.
// Readers (by extension):
//  - .csv: the Azure LLM inference trace, `TIMESTAMP,ContextTokens,GeneratedTokens`
//    with timestamps like `2023-11-16 18:17:03.9799600`;
//  - .jsonl: one object per line with `timestamp` (ms), `input_length`,
//    `output_length` (other fields ignored).
// Arrivals are made relative to the first request. Timestamps must not
// decrease; lengths must be >= 0 (input >= 1); an empty trace is an error.
// Errors name the file and line.
// Generators: Poisson or Gamma (bursty, coefficient of variation `burstiness_cv`)
// arrivals at `rate_per_s`, with lengths fixed, ShareGPT-like or resampled
// from a trace.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/sim_time.h"
#include "io/choice_table.h"
#include "io/config_path.h"

namespace vibesim {

class ConfigObject;

struct Request {
  std::int64_t id = 0;
  SimTime arrival;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

std::vector<Request> read_request_trace(const std::filesystem::path& path);

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
// `trace_lengths` holds the requests to resample lengths from (lengths.kind trace).
std::vector<Request> generate_requests(const RequestStreamSpec& spec, double rate_per_s,
                                       std::uint64_t seed,
                                       const std::vector<Request>& trace_lengths);

}  // namespace vibesim
