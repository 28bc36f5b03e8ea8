#include "io/csv_columns.h"

#include <algorithm>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/config_error.h"
#include "io/input_file.h"

namespace vibesim {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Splits one line on commas as RFC 4180 does: a field may be wrapped in
// double quotes, inside which commas are data and "" is one quote. Nothing
// when a quoted field is not closed (the caller names the line).
std::optional<std::vector<std::string>> split(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return std::nullopt;
  return fields;
}

std::string without_cr(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

CsvLines::CsvLines(const std::filesystem::path& path)
    : file_(path.string()), in_(open_input_file(path)) {
  if (!read_line(in_, header_, file_, 1)) throw InputError(fmt::format("{}: file is empty", file_));
  header_ = without_cr(std::move(header_));
  if (header_.starts_with(kUtf8Bom)) header_.erase(0, kUtf8Bom.size());
}

void CsvLines::require_header(std::string_view expected) const {
  if (header_fields() != split(expected))
    throw InputError(
        fmt::format("{}:1: expected the header '{}', got '{}'", file_, expected, header_));
}

bool CsvLines::next() {
  while (read_line(in_, line_, file_, line_number_ + 1)) {
    ++line_number_;
    line_ = without_cr(std::move(line_));
    if (!line_.empty()) return true;
  }
  return false;
}

std::vector<std::string> CsvLines::fields() const {
  auto out = split(line_);
  if (!out) throw InputError(fmt::format("{}: a quoted field is not closed", where()));
  return std::move(*out);
}

std::vector<std::string> CsvLines::fields(std::size_t count) const {
  auto out = fields();
  if (out.size() != count)
    throw InputError(fmt::format("{}: expected {} comma-separated fields", where(), count));
  return out;
}

std::vector<std::string> CsvLines::header_fields() const {
  auto out = split(header_);
  if (!out) throw InputError(fmt::format("{}:1: a quoted field is not closed", file_));
  return std::move(*out);
}

std::string CsvLines::where() const {
  return fmt::format("{}:{}", file_, line_number_);
}

CsvColumns read_csv_columns(const std::filesystem::path& path,
                            const std::vector<std::string>& names) {
  CsvLines csv(path);
  const auto& file = csv.file();
  const auto header = csv.header_fields();
  std::vector<std::size_t> index;
  std::size_t needed = 0;
  for (const auto& name : names) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      throw InputError(fmt::format("{}:1: no column '{}' in the header (columns: {})", file, name,
                                   fmt::join(header, ", ")));
    index.push_back(static_cast<std::size_t>(it - header.begin()));
    needed = std::max(needed, index.back() + 1);
  }
  CsvColumns out{names, {}, {}};
  while (csv.next()) {
    auto fields = csv.fields();
    if (fields.size() < needed)
      throw InputError(fmt::format("{}: {} fields, the header has {}", csv.where(), fields.size(),
                                   header.size()));
    std::vector<std::string> row;
    for (auto i : index) row.push_back(std::move(fields[i]));
    out.values.push_back(std::move(row));
    out.line_numbers.push_back(csv.line_number());
  }
  return out;
}

}  // namespace vibesim
