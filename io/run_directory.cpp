#include "io/run_directory.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

namespace {

constexpr std::string_view kStagingMark = ".staging-";

// Staging folders of runs whose process is gone (killed before it could clean
// up): ".<name>.staging-<pid>" with no such process.
void remove_stale_staging(const std::filesystem::path& parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const auto name = entry.path().filename().string();
    const auto mark = name.rfind(kStagingMark);
    if (name.empty() || name[0] != '.' || mark == std::string::npos) continue;
    const auto pid_text = name.substr(mark + kStagingMark.size());
    char* end = nullptr;
    const long pid = std::strtol(pid_text.c_str(), &end, 10);
    if (pid_text.empty() || *end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      std::filesystem::remove_all(entry.path(), ec);
  }
}

bool is_empty_directory(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) && std::filesystem::is_empty(p, ec);
}

}  // namespace

RunDirectory::RunDirectory(std::filesystem::path target) : target_(std::move(target)) {
  std::error_code ec;  // a path the file system refuses fails below, at create_directory
  if (std::filesystem::exists(target_, ec) && !is_empty_directory(target_))
    throw InputError(fmt::format(
        "{}: output path exists and is not an empty directory (choose another --out or remove it)",
        target_.string()));
  auto parent = target_.parent_path();
  if (parent.empty()) parent = ".";
  std::filesystem::create_directories(parent, ec);
  remove_stale_staging(parent);
  staging_ = parent / fmt::format(".{}.staging-{}", target_.filename().string(), ::getpid());
  std::filesystem::remove_all(staging_, ec);
  if (!std::filesystem::create_directory(staging_, ec))
    throw InputError(fmt::format("{}: cannot create output directory ({}; it is staged in {})",
                                 target_.string(), ec.message(), staging_.filename().string()));
}

RunDirectory::~RunDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(staging_, ec);
}

void RunDirectory::commit() {
  // One rename moves the whole run into place: readers see all of it or none.
  // An empty folder in the way (e.g. made for --out) is replaced.
  std::error_code ec;
  if (is_empty_directory(target_)) std::filesystem::remove(target_, ec);
  std::filesystem::rename(staging_, target_, ec);
  if (ec)
    throw InputError(fmt::format("{}: cannot move the finished run into place ({})",
                                 target_.string(), ec.message()));
}

std::filesystem::path RunDirectory::next_free(const std::filesystem::path& parent,
                                              const std::string& stem) {
  for (int i = 1;; ++i) {
    auto candidate = parent / fmt::format("{}-{}", stem, i);
    std::error_code ec;
    if (!std::filesystem::exists(candidate, ec)) return candidate;
  }
}

}  // namespace vibesim
