#include "io/config_object.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/input_file.h"

namespace vibesim {

namespace {
template <typename Json>
Json parse_json_file(const std::filesystem::path& path) {
  auto in = open_input_file(path);
  try {
    // From the stream, not a copy of the whole file: a file that is not JSON
    // is refused at its first bad byte (/dev/zero was read until memory ran out).
    return Json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line L, column C: ..."
    // or "[json.exception.out_of_range.406] number overflow parsing '1e400'": drop the tag.
    const std::string what = e.what();
    const auto tag_end = what.find("] ");
    throw InputError(fmt::format("{}: {}", path.string(),
                                 tag_end == std::string::npos ? what : what.substr(tag_end + 2)));
  }
}
}  // namespace

nlohmann::json read_json_file(const std::filesystem::path& path) {
  return parse_json_file<nlohmann::json>(path);
}

nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path) {
  return parse_json_file<nlohmann::ordered_json>(path);
}

namespace {
std::string type_name(const nlohmann::json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  return v.type_name();
}
}  // namespace

ConfigObject::ConfigObject(const nlohmann::json& value, std::string source, std::string path,
                           const PathRules* rules)
    : value_(&value), source_(std::move(source)), path_(std::move(path)), rules_(rules) {
  if (!value.is_object()) {
    throw InputError(path_.empty()
                         ? fmt::format("{}: expected a JSON object at the top level", source_)
                         : fmt::format("{}: key '{}': expected an object, got {}", source_, path_,
                                       type_name(value)));
  }
}

std::string ConfigObject::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

InputError ConfigObject::error(const std::string& key, const std::string& message) const {
  return InputError(fmt::format("{}: key '{}': {}", source_, key_path(key), message));
}

bool ConfigObject::has(const std::string& key) const {
  return value_->contains(key);
}

const nlohmann::json& ConfigObject::lookup(const std::string& key) {
  auto it = value_->find(key);
  if (it == value_->end()) throw error(key, "required key is missing");
  read_.insert(key);
  return *it;
}

const nlohmann::json& ConfigObject::raw(const std::string& key) {
  return lookup(key);
}

std::int64_t ConfigObject::integer(const std::string& key, std::int64_t min, std::int64_t max) {
  const auto& v = lookup(key);
  std::int64_t x = 0;
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    throw error(key,
                fmt::format("value {} is out of range [{}, {}]", v.get<std::uint64_t>(), min, max));
  } else if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
             std::abs(v.get<double>()) < 9e15) {
    x = static_cast<std::int64_t>(v.get<double>());
  } else {
    throw error(key, fmt::format("expected an integer, got {}", type_name(v)));
  }
  if (x < min || x > max) {
    throw error(key, max == std::numeric_limits<std::int64_t>::max()
                         ? fmt::format("value {} is out of range (must be >= {})", x, min)
                         : fmt::format("value {} is out of range [{}, {}]", x, min, max));
  }
  return x;
}

std::int64_t ConfigObject::integer_or(const std::string& key, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max) {
  return has(key) ? integer(key, min, max) : fallback;
}

double ConfigObject::number(const std::string& key, double min, double max) {
  const auto& v = lookup(key);
  if (!v.is_number()) throw error(key, fmt::format("expected a number, got {}", type_name(v)));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    throw error(key, std::isinf(max)
                         ? fmt::format("value {} is out of range (must be >= {})", x, min)
                         : fmt::format("value {} is out of range [{}, {}]", x, min, max));
  }
  return x;
}

double ConfigObject::number_or(const std::string& key, double fallback, double min, double max) {
  return has(key) ? number(key, min, max) : fallback;
}

std::string ConfigObject::string(const std::string& key) {
  const auto& v = lookup(key);
  if (!v.is_string()) throw error(key, fmt::format("expected a string, got {}", type_name(v)));
  return v.get<std::string>();
}

std::string ConfigObject::string_or(const std::string& key, std::string fallback) {
  return has(key) ? string(key) : fallback;
}

std::string ConfigObject::choice(const std::string& key, const std::vector<std::string>& allowed) {
  std::string s = string(key);
  for (const auto& a : allowed) {
    if (a == s) return s;
  }
  throw error(key,
              fmt::format("unknown value '{}'; valid values are: {}", s, fmt::join(allowed, ", ")));
}

std::string ConfigObject::choice_or(const std::string& key, std::string fallback,
                                    const std::vector<std::string>& allowed) {
  return has(key) ? choice(key, allowed) : fallback;
}

bool ConfigObject::boolean_or(const std::string& key, bool fallback) {
  if (!has(key)) return fallback;
  const auto& v = lookup(key);
  if (!v.is_boolean())
    throw error(key, fmt::format("expected true or false, got {}", type_name(v)));
  return v.get<bool>();
}

std::vector<std::int64_t> ConfigObject::integer_list(const std::string& key, std::int64_t min,
                                                     std::int64_t max) {
  const auto& v = lookup(key);
  if (!v.is_array())
    throw error(key, fmt::format("expected an array of integers, got {}", type_name(v)));
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number_integer())
      throw error(fmt::format("{}[{}]", key, i),
                  fmt::format("expected an integer, got {}", type_name(v[i])));
    const auto x = v[i].get<std::int64_t>();
    if (x < min || x > max)
      throw error(fmt::format("{}[{}]", key, i),
                  fmt::format("value {} is out of range [{}, {}]", x, min, max));
    out.push_back(x);
  }
  return out;
}

std::vector<double> ConfigObject::number_list(const std::string& key, double min, double max) {
  const auto& v = lookup(key);
  if (!v.is_array())
    throw error(key, fmt::format("expected an array of numbers, got {}", type_name(v)));
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number())
      throw error(fmt::format("{}[{}]", key, i),
                  fmt::format("expected a number, got {}", type_name(v[i])));
    const double x = v[i].get<double>();
    if (!std::isfinite(x) || x < min || x > max)
      throw error(fmt::format("{}[{}]", key, i),
                  fmt::format("value {} is out of range [{}, {}]", x, min, max));
    out.push_back(x);
  }
  return out;
}

std::vector<std::string> ConfigObject::string_list(const std::string& key) {
  const auto& v = lookup(key);
  if (!v.is_array())
    throw error(key, fmt::format("expected an array of strings, got {}", type_name(v)));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      throw error(fmt::format("{}[{}]", key, i),
                  fmt::format("expected a string, got {}", type_name(v[i])));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

ConfigObject ConfigObject::object(const std::string& key) {
  return ConfigObject(lookup(key), source_, key_path(key), rules_);
}

ConfigPath ConfigObject::file(const std::string& key) {
  const auto text = string(key);
  if (text.empty()) throw error(key, "expected a file path, got an empty string");
  const PathRules fallback{std::filesystem::path(source_).parent_path(), {}};
  const auto path = ConfigPath::resolve(text, rules_ != nullptr ? *rules_ : fallback);
  std::error_code ec;
  const auto status = std::filesystem::status(path.resolved, ec);
  if (!std::filesystem::exists(status))
    throw error(key, fmt::format("file '{}' does not exist", path.resolved.string()));
  // A run records the files it read: a pipe or device cannot be read again.
  if (!std::filesystem::is_regular_file(status))
    throw error(key, fmt::format("'{}' is not a regular file (a folder, pipe or device)",
                                 path.resolved.string()));
  return path;
}

std::filesystem::path ConfigObject::experiment_file(const std::string& key,
                                                    const ConfigLocations& locations,
                                                    const std::filesystem::path& naming_file) {
  const auto text = string(key);
  auto path = locations.experiment_file(text, naming_file);
  std::error_code ec;  // a name the file system refuses (too long, ...) is no file either
  if (!std::filesystem::is_regular_file(path, ec))
    throw error(key, fmt::format("no experiment '{}' ({} does not exist)", text, path.string()));
  return path;
}

void ConfigObject::finish() const {
  for (const auto& [key, _] : value_->items()) {
    if (!read_.count(key)) throw error(key, "unknown key");
  }
}

}  // namespace vibesim
