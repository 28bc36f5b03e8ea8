#pragma once
// Strict reading of JSON configs: every key is read once, required or with a
// default; wrong types, out-of-range values and unknown keys are InputErrors
// that name the file and the key path ("configs/models/x.json: key
// 'moe.top_k': ...").
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/choice_table.h"
#include "io/config_error.h"
#include "io/config_locations.h"
#include "io/config_path.h"

namespace vibesim {

// Reads a JSON file; a missing file or a syntax error is an InputError.
nlohmann::json read_json_file(const std::filesystem::path& path);
// The same, keeping the file's key order (where order means something: a
// sweep's grid). Read once: a pipe (/dev/stdin) cannot be read twice.
nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path);

class ConfigObject {
 public:
  // `source` names the file (or "--set" etc.) in errors; `path` is the key
  // path of this object inside it ("" for the root).
  // `rules` (optional, kept by reference) resolves path keys read with file().
  ConfigObject(const nlohmann::json& value, std::string source, std::string path = "",
               const PathRules* rules = nullptr);

  [[nodiscard]] bool has(const std::string& key) const;

  std::int64_t integer(const std::string& key,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::int64_t integer_or(const std::string& key, std::int64_t fallback,
                          std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                          std::int64_t max = std::numeric_limits<std::int64_t>::max());
  double number(const std::string& key, double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity());
  double number_or(const std::string& key, double fallback,
                   double min = -std::numeric_limits<double>::infinity(),
                   double max = std::numeric_limits<double>::infinity());
  std::string string(const std::string& key);
  std::string string_or(const std::string& key, std::string fallback);
  // A string that must be one of `allowed`; the error lists them.
  std::string choice(const std::string& key, const std::vector<std::string>& allowed);
  std::string choice_or(const std::string& key, std::string fallback,
                        const std::vector<std::string>& allowed);
  // An enumerated setting (see io/choice_table.h); the error lists the valid names.
  template <class Enum, std::size_t N>
  Enum choice(const std::string& key, const ChoiceTable<Enum, N>& table) {
    const auto text = string(key);
    if (const auto value = find_choice(table, text)) return *value;
    throw error(key, "unknown value '" + text + "'; valid values are: " + names_of(table));
  }
  template <class Enum, std::size_t N>
  Enum choice_or(const std::string& key, Enum fallback, const ChoiceTable<Enum, N>& table) {
    return has(key) ? choice(key, table) : fallback;
  }
  bool boolean_or(const std::string& key, bool fallback);
  std::vector<std::int64_t> integer_list(const std::string& key, std::int64_t min,
                                         std::int64_t max);
  std::vector<double> number_list(const std::string& key, double min, double max);
  std::vector<std::string> string_list(const std::string& key);
  ConfigObject object(const std::string& key);
  // A path key (see io/config_path.h) naming a file that must exist.
  ConfigPath file(const std::string& key);
  // A key naming an experiment that must exist: a .json path relative to
  // `naming_file`'s folder or a shipped name (ConfigLocations::experiment_file).
  std::filesystem::path experiment_file(const std::string& key, const ConfigLocations& locations,
                                        const std::filesystem::path& naming_file);
  // The raw JSON of a key (for values passed through, e.g. into config.resolved.json).
  const nlohmann::json& raw(const std::string& key);

  // Throws if the object holds a key that was never read.
  void finish() const;

  [[nodiscard]] const std::string& source() const { return source_; }
  [[nodiscard]] const PathRules* rules() const { return rules_; }
  [[nodiscard]] std::string key_path(const std::string& key) const;
  // An InputError "<source>: key '<path.key>': <message>".
  [[nodiscard]] InputError error(const std::string& key, const std::string& message) const;

 private:
  const nlohmann::json& lookup(const std::string& key);
  const nlohmann::json* value_;
  std::string source_;
  std::string path_;
  std::set<std::string> read_;
  const PathRules* rules_;
};

}  // namespace vibesim
