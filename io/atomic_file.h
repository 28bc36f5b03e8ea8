#pragma once
// Writing output files so that readers never see half of one: the text goes
// to a hidden temporary beside the target, which is renamed over it only once
// fully written. On failure the temporary is removed and the target untouched.
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace vibesim {

struct OutputFile {
  std::filesystem::path path;
  std::string_view text;  // not owned: the caller keeps it alive during the call
};

// Throws InputError naming `path` if it cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

// Several files that belong together (a placement and its report): every
// temporary is written before any is renamed, so a file that cannot be
// written leaves none of them. Throws InputError naming the first such file.
void write_files_atomically(std::span<const OutputFile> files);

}  // namespace vibesim
