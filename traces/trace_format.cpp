#include "traces/trace_format.h"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/csv_columns.h"
#include "io/input_file.h"
#include "traces/formats/trace_formats.h"

namespace vibesim {

namespace {

TraceFormat csv_format_of_header(const std::filesystem::path& path) {
  const auto header = CsvLines(path).header_fields();
  const auto has = [&](const char* column) {
    return std::find(header.begin(), header.end(), column) != header.end();
  };
  if (header == std::vector<std::string>{"step", "layer", "expert", "count"})
    return TraceFormat::kCountCsv;
  if (header == std::vector<std::string>{"layer", "expert", "count"}) return TraceFormat::kLongCsv;
  if (has("layer") && has("e1")) return TraceFormat::kTokenCsv;
  throw InputError(fmt::format(
      "{}:1: not a routing trace: expected a binary trace, an SGLang logical_count JSON, or a CSV "
      "with the header step,layer,expert,count, layer,expert,count, or layer and e1..ek",
      path.string()));
}

}  // namespace

bool trace_file_holds_tokens(const std::filesystem::path& path) {
  const auto format = detect_trace_format(path);
  if (format != TraceFormat::kBinary) return format == TraceFormat::kTokenCsv;
  return binary_trace_holds_tokens(path);
}

// The binary magic; else a JSON object (its first byte not white space or a
// UTF-8 byte-order mark is '{'); else a CSV told apart by its header.
// A pipe or device is refused: the format is told from the file's start and
// the reader then opens it again, so a pipe would reach the reader empty
// ("not a routing trace" for a good trace piped to /dev/stdin).
TraceFormat detect_trace_format(const std::filesystem::path& path) {
  auto in = open_input_file(path, std::ios::binary);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(fmt::format(
        "{}: not a regular file; a routing trace is read more than once, so save a piped trace "
        "to a file first",
        path.string()));
  char head[sizeof kBinaryTraceMagic] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got == sizeof head && std::equal(head, head + got, kBinaryTraceMagic))
    return TraceFormat::kBinary;
  const std::string start(head, got);
  const auto first = start.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && start[first] == '{') return TraceFormat::kSglangJson;
  return csv_format_of_header(path);
}

std::optional<TraceFormat> trace_format_of_extension(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".vbt") return TraceFormat::kBinary;
  if (ext == ".json") return TraceFormat::kSglangJson;
  return std::nullopt;
}

RoutingTrace read_routing_trace(const std::filesystem::path& path, int expert_limit) {
  switch (detect_trace_format(path)) {
    case TraceFormat::kTokenCsv:
      return read_token_csv(path, expert_limit);
    case TraceFormat::kCountCsv:
      return read_count_csv(path, expert_limit);
    case TraceFormat::kLongCsv:
      return read_long_csv(path, expert_limit);
    case TraceFormat::kSglangJson:
      return read_sglang_json(path, expert_limit);
    case TraceFormat::kBinary:
      break;
  }
  return read_binary_trace(path, expert_limit);
}

TokenTrace read_token_trace(const std::filesystem::path& path, int expert_limit) {
  auto trace = read_routing_trace(path, expert_limit);
  if (auto* tokens = std::get_if<TokenTrace>(&trace)) return std::move(*tokens);
  throw InputError(fmt::format(
      "{}: holds per-step expert counts, not per-token routing; use the count_trace source",
      path.string()));
}

CountTrace read_count_trace(const std::filesystem::path& path, int expert_limit) {
  auto trace = read_routing_trace(path, expert_limit);
  if (auto* counts = std::get_if<CountTrace>(&trace)) return std::move(*counts);
  throw InputError(
      fmt::format("{}: holds per-token routing, not per-step counts; use the token_trace source",
                  path.string()));
}

void write_routing_trace(const RoutingTrace& trace, const std::filesystem::path& path,
                         TraceFormat format, std::int64_t batch_tokens) {
  const auto* tokens = std::get_if<TokenTrace>(&trace);
  if (format == TraceFormat::kTokenCsv && !tokens)
    throw InputError(fmt::format(
        "{}: per-step counts cannot be written as a per-token trace (the tokens' routing is not "
        "recorded); choose a count format",
        path.string()));
  if (format == TraceFormat::kBinary) return write_file_atomically(path, write_binary_trace(trace));
  if (format == TraceFormat::kTokenCsv)
    return write_file_atomically(path, write_token_csv(*tokens));
  const CountTrace counted = tokens ? count_tokens(*tokens, batch_tokens) : CountTrace{};
  const CountTrace& counts = tokens ? counted : std::get<CountTrace>(trace);
  switch (format) {
    case TraceFormat::kCountCsv:
      return write_file_atomically(path, write_count_csv(counts));
    case TraceFormat::kLongCsv:
      return write_file_atomically(path, write_long_csv(counts));
    default:
      return write_file_atomically(path, write_sglang_json(counts));
  }
}

}  // namespace vibesim
