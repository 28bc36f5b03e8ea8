#include "io/input_file.h"

#include <array>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/json_text.h"

namespace vibesim {

std::ifstream open_input_file(const std::filesystem::path& path, std::ios::openmode mode) {
  // Outputs record the files they were made from (a trace's path in the
  // resolved experiment, a fit's source), so a name must be JSON text.
  require_json_text(path.string(), fmt::format("{}: the file's name", path.string()));
  std::error_code ec;  // a name the file system refuses is "cannot open" below
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, not a file", path.string()));
  std::ifstream in(path, mode | std::ios::in);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path.string()));
  return in;
}

bool read_line(std::istream& in, std::string& line, std::string_view file,
               std::size_t line_number) {
  line.clear();
  std::array<char, 4096> chunk{};
  for (;;) {
    in.getline(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    // Not failed: ended by '\n' (counted in `got`, not stored) or by the end
    // of input. Failed short of the end: the chunk filled up, the line goes on.
    const bool ended = !in.fail();
    if (!ended && in.eof()) return !line.empty();  // nothing more to read
    line.append(chunk.data(), ended && !in.eof() ? got - 1 : got);
    if (line.size() > kMaxLineBytes)
      throw InputError(
          fmt::format("{}:{}: a line longer than {} MiB", file, line_number, kMaxLineBytes >> 20));
    if (ended) return true;
    in.clear();
  }
}

}  // namespace vibesim
