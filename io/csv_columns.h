#pragma once
// Reading CSV files with a header line. Errors name the file and line.
//  - CsvLines: line by line, for fixed formats (check the header, split each
//    line into a known number of fields);
//  - read_csv_columns: chosen columns of any CSV, by name.
// Fields are split on commas as RFC 4180 does (a field in double quotes may
// hold commas; "" inside it is one quote); a UTF-8 byte-order mark before the
// header is ignored; a trailing '\r' is removed from every line.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace vibesim {

class CsvLines {
 public:
  // Opens `path` and reads its header; InputError if it cannot be opened or is empty.
  explicit CsvLines(const std::filesystem::path& path);

  [[nodiscard]] const std::string& header() const { return header_; }
  // InputError "file:1: expected the header '...', got '...'" unless it is `expected`.
  void require_header(std::string_view expected) const;
  // Moves to the next non-empty line (a trailing '\r' removed); false at the end.
  bool next();
  [[nodiscard]] const std::string& line() const { return line_; }
  // The current line split into fields; an unclosed quote is an InputError naming the line.
  [[nodiscard]] std::vector<std::string> fields() const;
  // ... into exactly `count` fields, else an InputError naming the line.
  [[nodiscard]] std::vector<std::string> fields(std::size_t count) const;
  // The header split into its column names.
  [[nodiscard]] std::vector<std::string> header_fields() const;
  // "file:line" of the current line, for error messages.
  [[nodiscard]] std::string where() const;
  [[nodiscard]] std::size_t line_number() const { return line_number_; }
  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::ifstream in_;
  std::string header_, line_;
  std::size_t line_number_ = 1;
};

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
