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
// Timestamps beyond kMaxArrivalSpanMs after the first and lengths above
// kMaxRequestTokens are refused. Generated streams: traces/request_stream.h.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/sim_time.h"

namespace vibesim {

// The longest prompt or output a request may have (what any one request of a
// real trace holds is far below): larger values are refused at load time,
// since one such request would run for days of simulated iterations.
inline constexpr std::int64_t kMaxRequestTokens = std::int64_t{1} << 20;
// Arrivals span at most this long (about 31.7 years), so times never overflow.
inline constexpr double kMaxArrivalSpanMs = 1e12;

struct Request {
  std::int64_t id = 0;
  SimTime arrival;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

std::vector<Request> read_request_trace(const std::filesystem::path& path);

}  // namespace vibesim
