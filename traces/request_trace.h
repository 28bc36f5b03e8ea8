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

#include "base/sim_time.h"

namespace vibesim {

struct Request {
  std::int64_t id = 0;
  SimTime arrival;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

std::vector<Request> read_request_trace(const std::filesystem::path& path);

struct RequestLengthSpec {
  std::string kind = "fixed";                             // "fixed", "sharegpt" or "trace"
  std::int64_t input_tokens = 1024, output_tokens = 128;  // fixed (Sonnet-like)
  std::filesystem::path trace;                            // trace: lengths resampled from it
};

struct RequestGeneratorSpec {
  std::string arrival = "poisson";  // "poisson" or "gamma"
  double rate_per_s = 1;
  double burstiness_cv = 2;  // gamma: coefficient of variation of inter-arrival times
  std::int64_t count = 1000;
  RequestLengthSpec lengths;
};

// `trace_lengths` holds the requests to resample lengths from (lengths.kind == "trace").
std::vector<Request> generate_requests(const RequestGeneratorSpec& spec, std::uint64_t seed,
                                       const std::vector<Request>& trace_lengths);

}  // namespace vibesim
