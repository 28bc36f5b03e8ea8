#include "io/csv_columns.h"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/config_error.h"

namespace vibesim {

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    std::string field = line.substr(start, comma == std::string::npos ? comma : comma - start);
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
      field = field.substr(1, field.size() - 2);
    fields.push_back(std::move(field));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

std::string without_cr(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

CsvLines::CsvLines(const std::filesystem::path& path) : file_(path.string()), in_(path) {
  if (!in_) throw InputError(fmt::format("{}: cannot open file", file_));
  if (!std::getline(in_, header_)) throw InputError(fmt::format("{}: file is empty", file_));
  header_ = without_cr(std::move(header_));
}

void CsvLines::require_header(std::string_view expected) const {
  if (header_ != expected)
    throw InputError(
        fmt::format("{}:1: expected the header '{}', got '{}'", file_, expected, header_));
}

bool CsvLines::next() {
  while (std::getline(in_, line_)) {
    ++line_number_;
    line_ = without_cr(std::move(line_));
    if (!line_.empty()) return true;
  }
  return false;
}

std::vector<std::string_view> CsvLines::fields(std::size_t count) const {
  std::vector<std::string_view> out;
  std::string_view rest = line_;
  for (auto comma = rest.find(','); comma != std::string_view::npos; comma = rest.find(',')) {
    out.push_back(rest.substr(0, comma));
    rest = rest.substr(comma + 1);
  }
  out.push_back(rest);
  if (out.size() != count)
    throw InputError(fmt::format("{}: expected {} comma-separated fields", where(), count));
  return out;
}

std::string CsvLines::where() const {
  return fmt::format("{}:{}", file_, line_number_);
}

CsvColumns read_csv_columns(const std::filesystem::path& path,
                            const std::vector<std::string>& names) {
  CsvLines csv(path);
  const auto& file = csv.file();
  const auto header = split(csv.header());
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
    auto fields = split(csv.line());
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
