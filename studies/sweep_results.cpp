#include "studies/sweep_results.h"

#include <algorithm>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"

namespace vibesim {

namespace {

// RFC 4180: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out(1, '"');
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string cell(const nlohmann::ordered_json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// Adds `name` to `columns` unless there (first-seen order).
void add_column(std::vector<std::string>& columns, const std::string& name) {
  if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
}

// Appends ",<field>" to `out`.
void append(std::string& out, const std::string& field) {
  out += ',';
  out += field;
}

// A column: a policy's metric (`section` "metrics") or its ratio to the
// baseline (`section` "ratio_to_baseline", column suffix ".ratio").
struct Column {
  std::string policy, section, metric;
  bool operator==(const Column&) const = default;
  [[nodiscard]] std::string name() const {
    return fmt::format("{}.{}{}", policy, metric, section == "metrics" ? "" : ".ratio");
  }
};

const nlohmann::ordered_json* value_of(const nlohmann::ordered_json& point, const Column& c) {
  for (const auto& q : point["policies"])
    if (q["policy"] == c.policy && q.contains(c.section) && q[c.section].contains(c.metric))
      return &q[c.section][c.metric];
  return nullptr;
}

// Whether `p` has every field csv_of reads, of the type it reads: a point's
// metrics.json is read back when a sweep resumes, and one edited or damaged
// by hand must be refused, not crash the writer (a missing key read through
// a const JSON is undefined behaviour).
bool is_point_metrics(const nlohmann::ordered_json& p) {
  const auto is_interval = [](const nlohmann::ordered_json& v) {
    return v.is_object() && v.contains("mean") && v["mean"].is_number() && v.contains("ci95") &&
           v["ci95"].is_array() && v["ci95"].size() == 2 && v["ci95"][0].is_number() &&
           v["ci95"][1].is_number();
  };
  const auto is_policy = [&](const nlohmann::ordered_json& q) {
    if (!q.is_object() || !q.contains("policy") || !q["policy"].is_string()) return false;
    for (const char* section : {"metrics", "ratio_to_baseline"}) {
      if (!q.contains(section)) continue;
      if (!q[section].is_object()) return false;
      for (const auto& [name, value] : q[section].items())
        if (!is_interval(value)) return false;
    }
    return true;
  };
  if (!p.is_object()) return false;
  for (const char* key : {"point", "seeds"})
    if (!p.contains(key) || !p[key].is_number_integer()) return false;
  if (!p.contains("overrides") || !p["overrides"].is_object()) return false;
  if (!p.contains("policies") || !p["policies"].is_array()) return false;
  return std::all_of(p["policies"].begin(), p["policies"].end(), is_policy);
}

std::string csv_of(const nlohmann::ordered_json& points, bool errors) {
  std::vector<std::string> keys;
  std::vector<Column> columns;
  bool intervals = false;
  for (const auto& p : points) {
    for (const auto& [key, value] : p["overrides"].items()) add_column(keys, key);
    intervals = intervals || p["seeds"].get<int>() > 1;
    for (const auto& policy : p["policies"])
      for (const char* section : {"metrics", "ratio_to_baseline"}) {
        if (!policy.contains(section)) continue;
        for (const auto& [name, value] : policy[section].items()) {
          const Column c{policy["policy"].get<std::string>(), section, name};
          if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
        }
      }
  }
  std::string out = "point";
  for (const auto& k : keys) append(out, csv_field(k));
  if (errors) append(out, "error");
  for (const auto& c : columns) {
    const auto column = c.name();
    append(out, csv_field(column));
    if (intervals) {
      append(out, csv_field(column + ".ci_low"));
      append(out, csv_field(column + ".ci_high"));
    }
  }
  out += '\n';
  for (const auto& p : points) {
    out += std::to_string(p["point"].get<int>());
    for (const auto& k : keys)
      append(out, p["overrides"].contains(k) ? csv_field(cell(p["overrides"][k])) : "");
    if (errors) append(out, p.contains("error") ? csv_field(p["error"].get<std::string>()) : "");
    for (const auto& c : columns) {
      const auto* v = value_of(p, c);
      append(out, v ? fmt::format("{}", (*v)["mean"].get<double>()) : "");
      if (intervals) {
        append(out, v ? fmt::format("{}", (*v)["ci95"][0].get<double>()) : "");
        append(out, v ? fmt::format("{}", (*v)["ci95"][1].get<double>()) : "");
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace

void write_sweep_results(const std::filesystem::path& dir, const std::string& sweep_name,
                         const std::vector<nlohmann::ordered_json>& overrides,
                         const std::map<int, std::string>& failed) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (int i = 0; i < static_cast<int>(overrides.size()); ++i) {
    if (const auto f = failed.find(i); f != failed.end()) {
      all.push_back({{"point", i},
                     {"overrides", overrides[static_cast<std::size_t>(i)]},
                     {"seeds", 0},
                     {"error", f->second},
                     {"policies", nlohmann::ordered_json::array()}});
      continue;
    }
    const auto run = fmt::format("points/{:04}", i);
    std::ifstream in(dir / run / "metrics.json");
    nlohmann::ordered_json p = nlohmann::ordered_json::parse(in, nullptr, false);
    if (!is_point_metrics(p) || p["point"] != i)
      throw InputError(fmt::format(
          "{}: not this sweep point's metrics (damaged or edited?); delete the point's folder "
          "to run it again",
          (dir / run / "metrics.json").string()));
    p["run"] = run;
    all.push_back(std::move(p));
  }
  nlohmann::ordered_json results = {{"sweep", sweep_name}, {"points", all}};
  write_file_atomically(dir / "results.json", results.dump(2) + "\n");
  write_file_atomically(dir / "results.csv", csv_of(all, !failed.empty()));
}

}  // namespace vibesim
