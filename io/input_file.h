#pragma once
// Opening a file the user named: the one place that says why it cannot be
// read, so every reader refuses a missing file or a folder the same way.
#include <filesystem>
#include <fstream>

namespace vibesim {

// `path` opened for reading; InputError "<path>: is a directory, not a file"
// or "<path>: cannot open file" otherwise.
std::ifstream open_input_file(const std::filesystem::path& path,
                              std::ios::openmode mode = std::ios::in);

}  // namespace vibesim
