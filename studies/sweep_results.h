#pragma once
// A sweep's results files, gathered from its points' metrics.json:
//  - results.json: {"sweep", "points": [{"point", "run", "overrides", "seeds",
//    "baseline", "policies": [{"policy", "metrics": {name: {"mean", "ci95"}},
//    "ratio_to_baseline": {name: {"mean", "ci95"}}}]}]};
//  - results.csv: one row per point: `point`, one column per overridden key,
//    then per policy and metric `<policy>.<metric>` (the mean over seeds), its
//    paired ratio to the baseline `<policy>.<metric>.ratio`, and, when any
//    point ran several seeds, `.ci_low` / `.ci_high` after each.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vibesim {

// A point in `failed` is listed with its overrides and `error` (a column of
// the CSV when any point failed); any other must have its metrics.json
// (InputError naming it if missing or unreadable).
void write_sweep_results(const std::filesystem::path& dir, const std::string& sweep_name,
                         const std::vector<nlohmann::ordered_json>& overrides,
                         const std::map<int, std::string>& failed);

}  // namespace vibesim
