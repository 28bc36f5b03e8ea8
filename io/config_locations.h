#pragma once
// Where the shipped configs and measured data are found, for a build tree and
// an installed binary alike. First match wins:
//  1. $VIBESIM_CONFIGS / $VIBESIM_DATA (each folder on its own);
//  2. $VIBESIM_HOME/configs and $VIBESIM_HOME/data;
//  3. <prefix>/share/vibesim/{configs,data} beside an installed binary
//     (<prefix>/bin/vibesim), found from /proc/self/exe;
//  4. the source tree the binary was built from.
#include <filesystem>

namespace vibesim {

struct ConfigLocations {
  std::filesystem::path config_dir;  // models/, gpus/, experiments/
  std::filesystem::path data_dir;    // what "data:<path>" in a config names

  static ConfigLocations from_environment();
  // The experiment a study file names: a .json path (relative to the folder
  // of `naming_file` unless absolute) or a name in config_dir/experiments.
  [[nodiscard]] std::filesystem::path experiment_file(
      const std::string& text, const std::filesystem::path& naming_file) const;
};

}  // namespace vibesim
