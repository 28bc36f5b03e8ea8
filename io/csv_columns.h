#pragma once
// Reading chosen columns of a CSV file with a header line, by column name.
// Fields are split on commas; surrounding double quotes are removed (quoted
// fields containing commas are not supported). Errors name the file and line.
#include <filesystem>
#include <string>
#include <vector>

namespace vibesim {

struct CsvColumns {
  std::vector<std::string> names;                // as requested
  std::vector<std::vector<std::string>> values;  // [row][requested column]
  std::vector<std::size_t> line_numbers;         // per row, 1-based (the header is line 1)
};

// Throws InputError if the file cannot be read, is empty, or lacks a column
// (the message lists the header's columns); a row with too few fields is an
// error naming its line.
CsvColumns read_csv_columns(const std::filesystem::path& path,
                            const std::vector<std::string>& names);

}  // namespace vibesim
