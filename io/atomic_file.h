#pragma once
// Writing one output file so that readers never see half of it: the text goes
// to a hidden temporary beside the target, which is renamed over it only once
// fully written. On failure the temporary is removed and the target untouched.
#include <filesystem>
#include <string>

namespace vibesim {

// Throws InputError naming `path` if it cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace vibesim
