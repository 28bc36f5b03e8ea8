#pragma once
// A key that names another config: a shipped one by name ("deepseek-v3" is
// <folder>/deepseek-v3.json), a file (a value ending in .json, by the path
// rule of io/config_path.h), or the config itself inline (an object, as
// config.resolved.json writes it).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "io/config_object.h"

namespace vibesim {

struct NamedConfig {
  nlohmann::json json;
  std::string source;    // the file, for errors
  std::string key_path;  // "" for a file of its own, the key for an inline config
  PathRules rules;       // path keys inside it resolve against its own file
  std::string name;      // the name or file stem it was given by ("" inline)

  // A ConfigObject over it; `this` must outlive the object.
  [[nodiscard]] ConfigObject object() const { return {json, source, key_path, &rules}; }
};

NamedConfig read_named_config(ConfigObject& parent, const std::string& key,
                              const std::filesystem::path& folder);

}  // namespace vibesim
