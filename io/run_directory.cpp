#include "io/run_directory.h"

#include <unistd.h>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

RunDirectory::RunDirectory(std::filesystem::path target) : target_(std::move(target)) {
  if (std::filesystem::exists(target_) && !std::filesystem::is_directory(target_))
    throw InputError(
        fmt::format("{}: output path exists and is not a directory", target_.string()));
  auto parent = target_.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  staging_ = parent / fmt::format(".{}.staging-{}", target_.filename().string(), ::getpid());
  std::filesystem::remove_all(staging_, ec);
  if (!std::filesystem::create_directory(staging_, ec))
    throw InputError(
        fmt::format("{}: cannot create output directory ({})", staging_.string(), ec.message()));
}

RunDirectory::~RunDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(staging_, ec);
}

void RunDirectory::commit() {
  if (!std::filesystem::exists(target_)) {
    std::filesystem::rename(staging_, target_);
  } else {
    for (const auto& entry : std::filesystem::directory_iterator(staging_))
      std::filesystem::rename(entry.path(), target_ / entry.path().filename());
  }
}

std::filesystem::path RunDirectory::next_free(const std::filesystem::path& parent,
                                              const std::string& stem) {
  for (int i = 1;; ++i) {
    auto candidate = parent / fmt::format("{}-{}", stem, i);
    if (!std::filesystem::exists(candidate)) return candidate;
  }
}

}  // namespace vibesim
