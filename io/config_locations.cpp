#include "io/config_locations.h"

#include <cstdlib>
#include <system_error>

namespace vibesim {

namespace {

std::filesystem::path environment_path(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::filesystem::path(value)
                                            : std::filesystem::path();
}

// <prefix>/share/vibesim when this binary runs from <prefix>/bin and that folder exists.
std::filesystem::path installed_share_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const auto share = exe.parent_path().parent_path() / "share" / "vibesim";
  return std::filesystem::is_directory(share / "configs", ec) ? share : std::filesystem::path();
}

}  // namespace

ConfigLocations ConfigLocations::from_environment() {
  ConfigLocations l{VIBESIM_DEFAULT_CONFIG_DIR, VIBESIM_DEFAULT_DATA_DIR};
  if (const auto home = environment_path("VIBESIM_HOME"); !home.empty()) {
    l = {home / "configs", home / "data"};
  } else if (const auto share = installed_share_dir(); !share.empty()) {
    l = {share / "configs", share / "data"};
  }
  if (const auto configs = environment_path("VIBESIM_CONFIGS"); !configs.empty())
    l.config_dir = configs;
  if (const auto data = environment_path("VIBESIM_DATA"); !data.empty()) l.data_dir = data;
  return l;
}

std::filesystem::path ConfigLocations::experiment_file(
    const std::string& text, const std::filesystem::path& naming_file) const {
  if (text.ends_with(".json")) {
    const std::filesystem::path p(text);
    return p.is_absolute() ? p : naming_file.parent_path() / p;
  }
  return config_dir / "experiments" / (text + ".json");
}

}  // namespace vibesim
