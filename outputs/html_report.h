#pragma once
// `vibesim report DIR -o report.html`: one self-contained HTML file for a run
// directory (a layer study, a serving run, several seeds) or a sweep folder:
// the data as JSON inside the page and charts drawn by Chart.js, inlined
// from Debian's libjs-chart.js so the page needs no network. docs/report.md.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace vibesim {

// What the report shows, read from the folder's files (summary.json,
// layers.csv, config.resolved.json; results.json for a sweep). InputError
// naming the file when the folder is neither a run nor a sweep.
nlohmann::ordered_json report_data(const std::filesystem::path& folder);

// The page. `chart_js` is Chart.js's UMD bundle; empty: the page says charts
// need libjs-chart.js and shows the tables only.
std::string html_report(const nlohmann::ordered_json& data, const std::string& chart_js);

}  // namespace vibesim
