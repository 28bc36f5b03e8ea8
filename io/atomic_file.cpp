#include "io/atomic_file.h"

#include <unistd.h>

#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

namespace {

// Where the text finally lands: the file a symbolic link names, else `path`.
std::filesystem::path final_target(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_symlink(path, ec)) return path;
  auto resolved = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : resolved;
}

std::filesystem::path temporary_for(const std::filesystem::path& target) {
  return target.parent_path() / fmt::format(".{}.tmp-{}", target.filename().string(), ::getpid());
}

// `append` for a stream: O_APPEND and no truncation, so /dev/stdout reaching
// a file the shell appends to (>> log) adds to it instead of emptying it.
bool write_whole(const std::filesystem::path& file, std::string_view text, bool append = false) {
  std::ofstream out(file, append ? std::ios::binary | std::ios::app : std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  return static_cast<bool>(out);
}

void remove_all_of(std::span<const std::filesystem::path> files) {
  std::error_code ignored;
  for (const auto& f : files)
    if (!f.empty()) std::filesystem::remove(f, ignored);
}

}  // namespace

bool is_stream_output(const std::filesystem::path& path) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  if (!ec && (absolute.starts_with("/dev/") || absolute.starts_with("/proc/")))
    return true;  // /dev/stdout, /dev/fd/N: whatever the descriptor leads to
  const auto status = std::filesystem::status(path, ec);
  return !ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
         !std::filesystem::is_directory(status);
}

void refuse_output_over_input(const std::filesystem::path& output,
                              const std::filesystem::path& input) {
  std::error_code ec;  // either missing: not the same file
  if (is_stream_output(output) || !std::filesystem::equivalent(output, input, ec)) return;
  throw InputError(fmt::format("{}: is the input file {}; write the output to another file",
                               output.string(), input.string()));
}

void remove_written_file(const std::filesystem::path& path) {
  if (is_stream_output(path)) return;
  std::error_code ignored;
  std::filesystem::remove(final_target(path), ignored);
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const OutputFile one{path, text};
  write_files_atomically(std::span(&one, 1));
}

// Temporaries first (every regular target), then the streams, then the renames.
void write_files_atomically(std::span<const OutputFile> files) {
  std::vector<std::filesystem::path> targets, temporaries;  // per file; empty: a stream
  for (const auto& f : files) {
    const bool stream = is_stream_output(f.path);
    targets.push_back(stream ? std::filesystem::path() : final_target(f.path));
    temporaries.push_back(stream ? std::filesystem::path() : temporary_for(targets.back()));
    if (!stream && !write_whole(temporaries.back(), f.text)) {
      remove_all_of(temporaries);
      throw InputError(fmt::format("{}: cannot write", f.path.string()));
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (targets[i].empty() && !write_whole(files[i].path, files[i].text, /*append=*/true)) {
      remove_all_of(temporaries);
      throw InputError(fmt::format("{}: cannot write", files[i].path.string()));
    }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (targets[i].empty()) continue;
    std::error_code ec;
    std::filesystem::rename(temporaries[i], targets[i], ec);
    if (ec) {
      remove_all_of(std::span(temporaries).subspan(i));
      throw InputError(fmt::format("{}: cannot write", files[i].path.string()));
    }
  }
}

}  // namespace vibesim
