#pragma once
// The one rule for every file path a config names:
//  - "data:<path>" is <path> inside the measured-data folder (data/ or $VIBESIM_DATA);
//  - an absolute path is itself;
//  - any other path is relative to the folder of the file that names it.
// Written back (config.resolved.json) as "data:<path>" when given that way, else
// as an absolute path, so a resolved config loads from wherever it is copied.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace vibesim {

struct PathRules {
  std::filesystem::path base_dir;  // folder of the file being read
  std::filesystem::path data_dir;
};

struct ConfigPath {
  std::string text;                // as written ("data:..." kept)
  std::filesystem::path resolved;  // where the file is

  static ConfigPath resolve(const std::string& text, const PathRules& rules);
  [[nodiscard]] nlohmann::json to_json() const;
};

}  // namespace vibesim
