#pragma once
// Opening a file the user named: the one place that says why it cannot be
// read, so every reader refuses a missing file or a folder the same way.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>
#include <string_view>

namespace vibesim {

// `path` opened for reading; InputError "<path>: is a directory, not a file",
// "<path>: cannot open file", or (a name that is not UTF-8, which outputs
// recording it could not hold) "<path>: the file's name: not valid UTF-8 ...".
std::ifstream open_input_file(const std::filesystem::path& path,
                              std::ios::openmode mode = std::ios::in);

// The longest line a line-based reader (CSV, JSON Lines) accepts. No file we
// read has lines near it; without it an endless line (/dev/zero, a stream
// with no newline) would fill memory.
inline constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;

// std::getline(in, line) for line `line_number` of `file`, refusing a line
// longer than kMaxLineBytes: InputError "file:N: a line longer than 16 MiB".
// False at the end of input.
bool read_line(std::istream& in, std::string& line, std::string_view file, std::size_t line_number);

}  // namespace vibesim
