#include "io/atomic_file.h"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto temporary =
      path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), ::getpid());
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw InputError(fmt::format("{}: cannot write", path.string()));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw InputError(fmt::format("{}: cannot write", path.string()));
  }
}

}  // namespace vibesim
