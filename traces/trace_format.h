#pragma once
// Routing trace file formats: the registry below lists each with what it
// holds; docs/trace-formats.md specifies them. Reading detects the format from
// the file's content (the binary magic, a JSON object, or the CSV header);
// writing takes it from the output's extension or an explicit choice.
//
// Readers throw InputError naming the file and the line, record or key for
// anything malformed: a truncated file, a wrong version, an expert id outside
// [0, expert_limit), a repeated expert within a token, a top-k mismatch, a
// non-numeric field, or a shape beyond the limits in traces/routing_trace.h.
#include <filesystem>
#include <optional>

#include "io/choice_table.h"
#include "traces/routing_trace.h"

namespace vibesim {

enum class TraceFormat { kTokenCsv, kCountCsv, kLongCsv, kSglangJson, kBinary };
inline constexpr ChoiceTable<TraceFormat, 5> kTraceFormats{{
    {"token_csv", TraceFormat::kTokenCsv,
     "per token: a CSV with columns layer and e1..ek (expert ids, best first); other columns "
     "(token and sequence ids, router scores s1..sk) are ignored — the FLAME-MoE format"},
    {"count_csv", TraceFormat::kCountCsv,
     "per step: a CSV step,layer,expert,count (missing rows count 0)"},
    {"long_csv", TraceFormat::kLongCsv,
     "one step: a CSV layer,expert,count (aggregate counts, e.g. a whole run)"},
    {"sglang_json", TraceFormat::kSglangJson,
     "SGLang's expert-distribution JSON {\"logical_count\": [layer][expert]} or "
     "[step][layer][expert]"},
    {"binary", TraceFormat::kBinary,
     "vibesim's binary trace (.vbt): per-token or per-step records behind a versioned header; "
     "fast to read"},
}};

// True if the file holds per-token routing (token_csv, or a binary trace of
// token records); false for per-step counts.
bool trace_file_holds_tokens(const std::filesystem::path& path);

// From the content; InputError naming the file if it is none of the formats.
TraceFormat detect_trace_format(const std::filesystem::path& path);

// From the extension: .vbt binary, .json sglang_json; nullopt for .csv
// (ambiguous) and anything else.
std::optional<TraceFormat> trace_format_of_extension(const std::filesystem::path& path);

// Any format; expert ids must be < expert_limit (at most kTraceExpertLimit).
RoutingTrace read_routing_trace(const std::filesystem::path& path,
                                int expert_limit = kTraceExpertLimit);
// A per-token trace, or InputError saying the file holds only counts.
TokenTrace read_token_trace(const std::filesystem::path& path,
                            int expert_limit = kTraceExpertLimit);
// Per-step counts, or InputError saying the file holds per-token routing.
CountTrace read_count_trace(const std::filesystem::path& path,
                            int expert_limit = kTraceExpertLimit);

// Writes atomically (io/atomic_file.h). A per-token trace written to a count
// format is counted in steps of `batch_tokens`; counts cannot become tokens
// (InputError). long_csv holds one step: counts are summed over steps.
void write_routing_trace(const RoutingTrace& trace, const std::filesystem::path& path,
                         TraceFormat format, std::int64_t batch_tokens = 256);

}  // namespace vibesim
