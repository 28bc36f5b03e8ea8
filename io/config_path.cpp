#include "io/config_path.h"

namespace vibesim {

namespace {
constexpr std::string_view kDataPrefix = "data:";
}

ConfigPath ConfigPath::resolve(const std::string& text, const PathRules& rules) {
  std::filesystem::path p;
  if (text.starts_with(kDataPrefix)) {
    p = rules.data_dir / text.substr(kDataPrefix.size());
  } else {
    p = text;
    if (p.is_relative()) p = rules.base_dir / p;
  }
  if (p.is_relative()) p = std::filesystem::absolute(p);
  return {text, p.lexically_normal()};
}

nlohmann::json ConfigPath::to_json() const {
  return text.starts_with(kDataPrefix) ? text : resolved.string();
}

}  // namespace vibesim
