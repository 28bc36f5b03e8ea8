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
#include <string>

namespace vibesim {

// InputError naming a point whose metrics.json is missing or unreadable.
void write_sweep_results(const std::filesystem::path& dir, const std::string& sweep_name,
                         int points);

}  // namespace vibesim
