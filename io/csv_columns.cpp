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

}  // namespace

CsvColumns read_csv_columns(const std::filesystem::path& path,
                            const std::vector<std::string>& names) {
  const auto file = path.string();
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open file", file));
  std::string line;
  if (!std::getline(in, line)) throw InputError(fmt::format("{}: file is empty", file));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto header = split(line);
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
  for (std::size_t line_no = 2; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto fields = split(line);
    if (fields.size() < needed)
      throw InputError(fmt::format("{}:{}: {} fields, the header has {}", file, line_no,
                                   fields.size(), header.size()));
    std::vector<std::string> row;
    for (auto i : index) row.push_back(std::move(fields[i]));
    out.values.push_back(std::move(row));
    out.line_numbers.push_back(line_no);
  }
  return out;
}

}  // namespace vibesim
