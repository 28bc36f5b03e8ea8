#include "io/named_config.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vibesim {

namespace {

std::vector<std::string> names_in(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

NamedConfig read_named_config(ConfigObject& parent, const std::string& key,
                              const std::filesystem::path& folder) {
  const PathRules parent_rules =
      parent.rules() != nullptr
          ? *parent.rules()
          : PathRules{std::filesystem::path(parent.source()).parent_path(), {}};
  if (parent.has(key) && parent.raw(key).is_object())
    return {parent.raw(key), parent.source(), parent.key_path(key), parent_rules, ""};
  const auto value = parent.string(key);
  if (value.ends_with(".json")) {
    const auto path = parent.file(key).resolved;
    return {read_json_file(path),
            path.string(),
            "",
            {path.parent_path(), parent_rules.data_dir},
            path.stem().string()};
  }
  const auto path = folder / (value + ".json");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw parent.error(key, fmt::format("unknown name '{}'; valid values are: {}", value,
                                        fmt::join(names_in(folder), ", ")));
  return {
      read_json_file(path), path.string(), "", {path.parent_path(), parent_rules.data_dir}, value};
}

}  // namespace vibesim
