#pragma once
// Writing output files so that readers never see half of one: the text goes
// to a hidden temporary beside the target, which is renamed over it only once
// fully written. On failure the temporary is removed and the target untouched.
// A symbolic link stays a link: the file it names is replaced. What is not a
// regular file (a FIFO, a terminal, /dev/null), and anything under /dev or
// /proc (/dev/stdout may lead to a file the shell appends to), is appended to
// in place, never replaced: renaming over a device as root replaced the device.
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace vibesim {

struct OutputFile {
  std::filesystem::path path;
  std::string_view text;  // not owned: the caller keeps it alive during the call
};

// Whether `path` is written in place: it lies under /dev or /proc, or it
// exists (links followed) and is neither a regular file nor a folder. Such a
// target is never replaced or removed.
bool is_stream_output(const std::filesystem::path& path);

// Takes back what write_file_atomically wrote to `path` (the file a link
// names); nothing for a stream output.
void remove_written_file(const std::filesystem::path& path);

// Throws InputError if writing `output` would replace `input` (the same
// file through any name or link): a command that converts or fits a file
// into its own input destroys what it read. Streams (/dev/stdout) never are.
void refuse_output_over_input(const std::filesystem::path& output,
                              const std::filesystem::path& input);

// Throws InputError naming `path` if it cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

// Several files that belong together (a placement and its report): every
// temporary is written before any is renamed, so a file that cannot be
// written leaves none of them. Throws InputError naming the first such file.
void write_files_atomically(std::span<const OutputFile> files);

}  // namespace vibesim
