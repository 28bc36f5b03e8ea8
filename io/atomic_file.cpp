#include "io/atomic_file.h"

#include <unistd.h>

#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

namespace {

std::filesystem::path temporary_for(const std::filesystem::path& path) {
  return path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), ::getpid());
}

bool write_whole(const std::filesystem::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  return static_cast<bool>(out);
}

void remove_all_of(std::span<const std::filesystem::path> files) {
  std::error_code ignored;
  for (const auto& f : files) std::filesystem::remove(f, ignored);
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const OutputFile one{path, text};
  write_files_atomically(std::span(&one, 1));
}

void write_files_atomically(std::span<const OutputFile> files) {
  std::vector<std::filesystem::path> temporaries;
  for (const auto& f : files) {
    temporaries.push_back(temporary_for(f.path));
    if (!write_whole(temporaries.back(), f.text)) {
      remove_all_of(temporaries);
      throw InputError(fmt::format("{}: cannot write", f.path.string()));
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    std::filesystem::rename(temporaries[i], files[i].path, ec);
    if (ec) {
      remove_all_of(std::span(temporaries).subspan(i));
      throw InputError(fmt::format("{}: cannot write", files[i].path.string()));
    }
  }
}

}  // namespace vibesim
