#include "outputs/html_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/config_object.h"
#include "io/csv_columns.h"
#include "io/json_text.h"
#include "outputs/report_page.h"

namespace vibesim {

namespace {

constexpr int kCdfPoints = 200;

// Whether `folder` holds a file `name` (false where the file system refuses the path).
bool holds_file(const std::filesystem::path& folder, const char* name) {
  std::error_code ec;
  return std::filesystem::is_regular_file(folder / name, ec);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Per policy, kCdfPoints (latency µs, fraction of steps at or below) from layers.csv.
nlohmann::ordered_json latency_cdf(const std::filesystem::path& layers_csv) {
  CsvLines csv(layers_csv);  // header: policy,iteration,moe_layer,layer_us,...
  const auto columns = csv.header_fields();
  if (columns.size() < 4 || columns[0] != "policy" || columns[3] != "layer_us")
    throw InputError(
        fmt::format("{}:1: not the header of layers.csv (policy,iteration,moe_layer,"
                    "layer_us,...), got '{}'",
                    layers_csv.string(), csv.header()));
  std::map<std::string, std::vector<double>> by_policy;
  std::vector<std::string> order;
  while (csv.next()) {
    const auto f = csv.fields();
    double layer_us = -1;
    if (f.size() >= 4) {
      const auto [end, ec] = std::from_chars(f[3].data(), f[3].data() + f[3].size(), layer_us);
      if (ec != std::errc{} || end != f[3].data() + f[3].size()) layer_us = -1;
    }
    if (!(layer_us >= 0 && std::isfinite(layer_us)))
      throw InputError(fmt::format(
          "{}: not a row of layers.csv (policy,iteration,moe_layer,layer_us,...; layer_us a "
          "time >= 0)",
          csv.where()));
    if (!by_policy.contains(f[0])) {
      require_json_text(f[0], fmt::format("{}: column 'policy'", csv.where()));
      order.push_back(f[0]);
    }
    by_policy[f[0]].push_back(layer_us);
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& policy : order) {
    auto& v = by_policy[policy];
    std::sort(v.begin(), v.end());
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    const auto n = v.size();
    for (int k = 0; k < kCdfPoints; ++k) {
      const auto i = static_cast<std::size_t>(k) * (n - 1) / (kCdfPoints - 1);
      points.push_back({{"x", v[i]}, {"y", static_cast<double>(i + 1) / static_cast<double>(n)}});
    }
    out[policy] = points;
  }
  return out;
}

// The override keys whose values differ between points, as each point's label.
std::vector<std::string> point_labels(const nlohmann::json& points) {
  std::map<std::string, std::set<std::string>> values;
  for (const auto& p : points)
    for (const auto& [key, value] : p["overrides"].items()) values[key].insert(value.dump());
  std::vector<std::string> labels;
  for (const auto& p : points) {
    std::string label;
    for (const auto& [key, value] : p["overrides"].items())
      if (values[key].size() > 1) label += (label.empty() ? "" : " ") + key + "=" + value.dump();
    labels.push_back(label.empty() ? fmt::format("point {}", p["point"].get<int>()) : label);
  }
  return labels;
}

nlohmann::ordered_json sweep_data(const std::filesystem::path& folder) {
  const auto results = read_json_file(folder / "results.json");
  nlohmann::ordered_json d{
      {"kind", "sweep"},
      {"title", fmt::format("sweep {}", results.value("sweep", folder.filename().string()))}};
  const auto& points = results.at("points");
  const auto labels = point_labels(points);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < points.size(); ++i) {
    nlohmann::ordered_json policies = nlohmann::ordered_json::object();
    if (points[i].contains("policies"))
      for (const auto& p : points[i]["policies"])
        policies[p["policy"].get<std::string>()] = p["metrics"];
    out.push_back({{"label", labels[i]}, {"policies", policies}});
  }
  d["points"] = out;
  if (holds_file(folder, "sweep.json")) d["config"] = read_text(folder / "sweep.json");
  return d;
}

nlohmann::ordered_json run_data(const std::filesystem::path& folder) {
  const auto summary = read_json_file(folder / "summary.json");
  nlohmann::ordered_json d;
  d["title"] = fmt::format("{} (seed {})", summary.value("experiment", std::string("run")),
                           summary.value("seed", 0));
  const auto& policies = summary.at("policies");
  if (summary.contains("seeds")) {
    d["kind"] = "seeds";
    d["title"] = fmt::format("{} ({} seeds)", summary.value("experiment", std::string("run")),
                             summary["seeds"].size());
    d["baseline"] = summary.value("baseline", std::string());
  } else if (!policies.empty() && policies[0].contains("ttft_ms")) {
    d["kind"] = "serving";
    if (summary.contains("frontier")) d["frontier"] = summary["frontier"];
  } else {
    d["kind"] = "layers";
    d["cdf"] = latency_cdf(folder / "layers.csv");
  }
  d["policies"] = policies;
  if (holds_file(folder, "config.resolved.json"))
    d["config"] = read_text(folder / "config.resolved.json");
  return d;
}

}  // namespace

nlohmann::ordered_json report_data(const std::filesystem::path& folder) {
  const bool sweep = holds_file(folder, "results.json");
  if (!sweep && !holds_file(folder, "summary.json"))
    throw InputError(
        fmt::format("{}: neither a run directory (summary.json) nor a sweep folder (results.json)",
                    folder.string()));
  // The files are vibesim's own outputs; one edited or from another version
  // may lack a key or hold another type, which is the user's input to fix.
  const auto file = folder / (sweep ? "results.json" : "summary.json");
  try {
    return sweep ? sweep_data(folder) : run_data(folder);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a {} this vibesim can read ({})", file.string(),
                                 sweep ? "sweep's results" : "run's summary", e.what()));
  }
}

std::string html_report(const nlohmann::ordered_json& data, const std::string& chart_js) {
  // "</" inside a <script> element would end it early.
  auto json = data.dump();
  for (std::size_t at = 0; (at = json.find("</", at)) != std::string::npos; at += 3)
    json.replace(at, 2, "<\\/");
  std::string title = data.value("title", std::string("vibesim report"));
  std::string escaped;
  for (char c : title)
    escaped += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  const std::map<std::string, std::string> slots{
      {"@TITLE@", escaped},
      {"@CHARTJS@", chart_js.empty() ? "window.Chart = undefined;" : chart_js},
      {"@DATA@", json}};
  // One pass over the template, so no slot's text is searched for slots.
  const std::string_view page_template = kReportPage;
  std::string page;
  std::size_t from = 0;
  for (auto at = page_template.find('@'); at != std::string_view::npos;
       at = page_template.find('@', at + 1)) {
    for (const auto& [slot, text] : slots) {
      if (page_template.substr(at, slot.size()) != slot) continue;
      page.append(page_template.substr(from, at - from));
      page += text;
      from = at + slot.size();
      at = from - 1;
      break;
    }
  }
  page.append(page_template.substr(from));
  return page;
}

}  // namespace vibesim
