#pragma once
// One reader and one writer per trace format (traces/trace_format.h holds the
// registry and dispatches here). Readers check everything the registry's
// header promises; writers return the file's bytes.
#include <filesystem>
#include <string>

#include "traces/routing_trace.h"

namespace vibesim {

TokenTrace read_token_csv(const std::filesystem::path& path, int expert_limit);
std::string write_token_csv(const TokenTrace& trace);

CountTrace read_count_csv(const std::filesystem::path& path, int expert_limit);
std::string write_count_csv(const CountTrace& trace);

CountTrace read_long_csv(const std::filesystem::path& path, int expert_limit);
std::string write_long_csv(const CountTrace& trace);  // summed over steps

CountTrace read_sglang_json(const std::filesystem::path& path, int expert_limit);
std::string write_sglang_json(const CountTrace& trace);

// The magic that starts a binary trace, for format detection.
inline constexpr char kBinaryTraceMagic[8] = {'V', 'I', 'B', 'E', 'T', 'R', 'C', '\0'};
// Whether a binary trace's header announces token records (reads the header only).
bool binary_trace_holds_tokens(const std::filesystem::path& path);
RoutingTrace read_binary_trace(const std::filesystem::path& path, int expert_limit);
std::string write_binary_trace(const RoutingTrace& trace);

}  // namespace vibesim
