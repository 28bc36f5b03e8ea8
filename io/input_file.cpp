#include "io/input_file.h"

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

std::ifstream open_input_file(const std::filesystem::path& path, std::ios::openmode mode) {
  std::error_code ec;  // a name the file system refuses is "cannot open" below
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, not a file", path.string()));
  std::ifstream in(path, mode | std::ios::in);
  if (!in) throw InputError(fmt::format("{}: cannot open file", path.string()));
  return in;
}

}  // namespace vibesim
