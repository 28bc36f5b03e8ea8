// Reading lines of user files: read_line behaves as std::getline at chunk
// boundaries and at the end of input, and refuses a line longer than
// kMaxLineBytes instead of growing without bound.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "fixtures.h"
#include "io/config_error.h"
#include "io/csv_columns.h"
#include "io/input_file.h"

using namespace vibesim;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string line;
  for (std::size_t n = 1; read_line(in, line, "t", n); ++n) out.push_back(line);
  return out;
}

std::vector<std::string> getline_lines_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("read_line splits lines as std::getline does, around its 4096-byte chunks") {
  for (const std::size_t length : {0, 1, 4094, 4095, 4096, 4097, 8190, 8191, 8192, 20000}) {
    const std::string long_line(length, 'x');
    for (const std::string& text :
         {long_line, long_line + "\n", long_line + "\nab", long_line + "\n\n" + long_line,
          "a\r\n" + long_line + "\r\n", std::string("a\0b\n", 4) + long_line}) {
      INFO("length ", length);
      CHECK(lines_of(text) == getline_lines_of(text));
    }
  }
}

TEST_CASE("a line longer than kMaxLineBytes is refused, naming the file and line") {
  std::istringstream in("header\n" + std::string(kMaxLineBytes + 1, '\0'));
  std::string line;
  REQUIRE(read_line(in, line, "big.csv", 1));
  CHECK_THROWS_WITH_AS(read_line(in, line, "big.csv", 2),
                       doctest::Contains("big.csv:2: a line longer than 16 MiB"), InputError);
  testing::TempDir dir("input-file");
  const auto path = dir.write("one-line.csv", std::string(kMaxLineBytes + 10, 'a'));
  CHECK_THROWS_WITH_AS(CsvLines{path}, doctest::Contains("one-line.csv:1: a line longer than"),
                       InputError);
}
