#pragma once
// A run's output folder, written atomically: files are written into a hidden
// staging folder beside the target (".<name>.staging-<pid>") and moved into
// place only by commit(). If the run fails first, the staging folder is
// removed and nothing is left behind; staging folders of processes that were
// killed are removed by the next run in the same parent folder.
#include <filesystem>
#include <string>

namespace vibesim {

class RunDirectory {
 public:
  explicit RunDirectory(std::filesystem::path target);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  // The staging folder: where everything goes before commit().
  [[nodiscard]] const std::filesystem::path& staging() const { return staging_; }
  // Where to write `file_name` before commit().
  [[nodiscard]] std::filesystem::path staged(const std::string& file_name) const {
    return staging_ / file_name;
  }
  // Moves the staging folder into place with one rename. The target must not
  // exist or be an empty folder (checked at construction: anything else is
  // refused, so a run never mixes with old files).
  void commit();
  [[nodiscard]] const std::filesystem::path& target() const { return target_; }

  // `parent`/`stem`-1, -2, ...: the first that does not exist yet.
  static std::filesystem::path next_free(const std::filesystem::path& parent,
                                         const std::string& stem);

 private:
  std::filesystem::path target_;
  std::filesystem::path staging_;
};

}  // namespace vibesim
