#include "traces/request_trace.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/config_error.h"
#include "io/config_object.h"
#include "io/csv_columns.h"
#include "io/input_file.h"

namespace vibesim {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "YYYY-MM-DD HH:MM:SS[.fraction]" -> nanoseconds since the epoch; years
// 1970-2200 only, so the result fits in 64 bits.
std::optional<std::int64_t> parse_timestamp_ns(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  const auto field = [&](std::size_t at, std::size_t len, int& out) {
    const auto [p, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
    return ec == std::errc() && p == text.data() + at + len;
  };
  if (!field(0, 4, y) || !field(5, 2, mo) || !field(8, 2, d) || !field(11, 2, h) ||
      !field(14, 2, mi) || !field(17, 2, s) || y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
      d > 31 || h > 23 || mi > 59 || s > 60)
    return std::nullopt;
  std::int64_t fraction_ns = 0;
  if (text.size() > 19) {
    if (text[19] != '.' || text.size() == 20) return std::nullopt;
    std::int64_t scale = 100'000'000;
    for (std::size_t i = 20; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      fraction_ns += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60'000'000'000LL + s * 1'000'000'000LL + fraction_ns;
}

std::int64_t parse_length(std::string_view text, const std::string& where, const char* column,
                          std::int64_t min) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    throw InputError(fmt::format("{}: column '{}' is not an integer: '{}'", where, column, text));
  if (v < min || v > kMaxRequestTokens)
    throw InputError(fmt::format("{}: column '{}' must be in [{}, {}], got {}", where, column, min,
                                 kMaxRequestTokens, v));
  return v;
}

void check_order(std::vector<Request>& requests, std::int64_t previous_ns, std::int64_t now_ns,
                 const std::string& where) {
  if (!requests.empty() && now_ns < previous_ns)
    throw InputError(
        fmt::format("{}: timestamp goes back in time (before the previous line's)", where));
}

std::vector<Request> read_azure_csv(const std::filesystem::path& path) {
  CsvLines csv(path);
  csv.require_header("TIMESTAMP,ContextTokens,GeneratedTokens");
  std::vector<Request> requests;
  std::int64_t first_ns = 0, previous_ns = 0;
  while (csv.next()) {
    const auto where = csv.where();
    const auto fields = csv.fields(3);
    const auto ts = parse_timestamp_ns(fields[0]);
    if (!ts)
      throw InputError(
          fmt::format("{}: TIMESTAMP '{}' is not 'YYYY-MM-DD HH:MM:SS.fraction' (years 1970-2200)",
                      where, fields[0]));
    check_order(requests, previous_ns, *ts, where);
    if (requests.empty()) first_ns = *ts;
    previous_ns = *ts;
    Request r;
    r.id = static_cast<std::int64_t>(requests.size());
    r.arrival = SimTime::from_ns(*ts - first_ns);
    r.input_tokens = parse_length(fields[1], where, "ContextTokens", 1);
    r.output_tokens = parse_length(fields[2], where, "GeneratedTokens", 0);
    requests.push_back(r);
  }
  if (requests.empty()) throw InputError(fmt::format("{}: no requests", csv.file()));
  return requests;
}

std::vector<Request> read_jsonl(const std::filesystem::path& path) {
  const auto file = path.string();
  auto in = open_input_file(path);
  std::vector<Request> requests;
  std::string line;
  double first_ms = 0, previous_ms = 0;
  for (std::size_t line_no = 1; read_line(in, line, file, line_no); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto where = fmt::format("{}:{}", file, line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw InputError(fmt::format("{}: not a JSON object", where));
    }
    const auto number = [&](const char* key) {
      if (!j.is_object() || !j.contains(key) || !j[key].is_number())
        throw InputError(fmt::format("{}: key '{}' missing or not a number", where, key));
      const double v = j[key].get<double>();
      if (!std::isfinite(v))
        throw InputError(fmt::format("{}: key '{}' is not finite", where, key));
      return v;
    };
    const double ms = number("timestamp");
    const double input = number("input_length"), output = number("output_length");
    if (!requests.empty() && ms < previous_ms)
      throw InputError(
          fmt::format("{}: timestamp goes back in time (before the previous line's)", where));
    const double max_tokens = static_cast<double>(kMaxRequestTokens);
    if (input < 1 || output < 0 || input > max_tokens || output > max_tokens ||
        input != std::floor(input) || output != std::floor(output))
      throw InputError(
          fmt::format("{}: input_length must be an integer in [1, {}] and output_length in [0, {}]",
                      where, kMaxRequestTokens, kMaxRequestTokens));
    if (requests.empty()) first_ms = ms;
    if (std::abs(ms) > 1e15 || ms - first_ms > kMaxArrivalSpanMs)
      throw InputError(fmt::format("{}: timestamp {} ms is more than {} ms after the first", where,
                                   ms, kMaxArrivalSpanMs));
    previous_ms = ms;
    Request r;
    r.id = static_cast<std::int64_t>(requests.size());
    r.arrival = SimTime::from_ns(static_cast<std::int64_t>(std::llround((ms - first_ms) * 1e6)));
    r.input_tokens = static_cast<std::int64_t>(input);
    r.output_tokens = static_cast<std::int64_t>(output);
    requests.push_back(r);
  }
  if (requests.empty()) throw InputError(fmt::format("{}: no requests", file));
  return requests;
}

}  // namespace

std::vector<Request> read_request_trace(const std::filesystem::path& path) {
  if (path.extension() == ".jsonl") return read_jsonl(path);
  if (path.extension() == ".csv") return read_azure_csv(path);
  throw InputError(
      fmt::format("{}: unknown request trace format (expected .csv or .jsonl)", path.string()));
}

}  // namespace vibesim
