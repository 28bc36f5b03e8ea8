#include "studies/sweep.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "base/parallel_for.h"
#include "io/atomic_file.h"
#include "io/config_error.h"
#include "io/config_object.h"
#include "io/run_directory.h"
#include "outputs/run_writer.h"
#include "outputs/seed_summary.h"
#include "sim/experiment.h"
#include "sim/serving_loop.h"
#include "studies/rank_group.h"
#include "studies/sweep_results.h"

namespace vibesim {

namespace {

constexpr std::size_t kMaxPoints = 100'000;

// `ordered` is the file read keeping key order (grid keys and overrides apply
// in the order written); `root` checks the rest.
std::vector<std::pair<std::string, std::vector<nlohmann::json>>> parse_grid(
    ConfigObject& root, const nlohmann::ordered_json& ordered) {
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;
  if (!root.has("grid")) return grid;
  root.raw("grid");
  const auto& g = ordered["grid"];
  if (!g.is_object()) throw root.error("grid", "expected an object of key: [values]");
  for (const auto& [key, values] : g.items()) {
    if (!values.is_array() || values.empty())
      throw root.error("grid." + key, "expected a non-empty list of values");
    grid.emplace_back(key, std::vector<nlohmann::json>(values.begin(), values.end()));
  }
  return grid;
}

std::vector<Overrides> parse_list(ConfigObject& root, const nlohmann::ordered_json& ordered) {
  std::vector<Overrides> points;
  if (!root.has("points")) return points;
  root.raw("points");
  const auto& list = ordered["points"];
  if (!list.is_array()) throw root.error("points", "expected a list of {key: value} objects");
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object())
      throw root.error(fmt::format("points[{}]", i), "expected an object {key: value}");
    Overrides o;
    for (const auto& [key, value] : list[i].items()) o.emplace_back(key, value);
    points.push_back(std::move(o));
  }
  return points;
}

std::vector<std::string> override_strings(const Overrides& overrides) {
  std::vector<std::string> out;
  for (const auto& [key, value] : overrides) out.push_back(key + "=" + value.dump());
  return out;
}

std::string describe(const SweepPoint& p) {
  std::string out;
  for (const auto& s : override_strings(p.overrides)) out += (out.empty() ? "" : " ") + s;
  return out.empty() ? "the base experiment" : out;
}

std::filesystem::path point_folder(const std::filesystem::path& dir, int index) {
  return dir / "points" / fmt::format("{:04}", index);
}

nlohmann::ordered_json interval_json(const std::vector<double>& values) {
  const auto mi = mean_interval_95(values);
  return {{"mean", mi.mean}, {"ci95", {mi.low, mi.high}}};
}

// Per policy, each headline metric's mean and 95 % interval over the seeds,
// and its ratio to the baseline policy's, taken within each seed (paired).
nlohmann::ordered_json point_metrics(const SweepPoint& point, const std::string& baseline,
                                     const std::vector<SeedMetrics>& runs) {
  nlohmann::ordered_json overrides = nlohmann::ordered_json::object();
  for (const auto& [key, value] : point.overrides) overrides[key] = value;
  nlohmann::ordered_json out = {{"point", point.index},
                                {"overrides", overrides},
                                {"seeds", runs.size()},
                                {"baseline", baseline},
                                {"policies", nlohmann::ordered_json::array()}};
  const auto& first = runs.front().policies;
  const auto base =
      static_cast<std::size_t>(std::find_if(first.begin(), first.end(),
                                            [&](const auto& p) { return p.policy == baseline; }) -
                               first.begin());
  for (std::size_t p = 0; p < first.size(); ++p) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::object(),
                           ratios = nlohmann::ordered_json::object();
    for (std::size_t m = 0; m < first[p].values.size(); ++m) {
      std::vector<double> values, ratio;
      for (const auto& run : runs) {
        values.push_back(run.policies[p].values[m].second);
        const double b = base < first.size() ? run.policies[base].values[m].second : 0.0;
        if (b != 0) ratio.push_back(run.policies[p].values[m].second / b);
      }
      metrics[first[p].values[m].first] = interval_json(values);
      if (ratio.size() == runs.size()) ratios[first[p].values[m].first] = interval_json(ratio);
    }
    out["policies"].push_back(
        {{"policy", first[p].policy}, {"metrics", metrics}, {"ratio_to_baseline", ratios}});
  }
  return out;
}

// DIR empty or new: claim it; DIR of this sweep: resume; anything else: refuse.
void prepare_dir(const SweepSpec& spec, const std::filesystem::path& dir, bool force) {
  const auto marker = dir / "sweep.json";
  const auto text = spec.to_json().dump(2) + "\n";
  std::error_code ec;
  if (std::filesystem::exists(marker, ec)) {
    std::ifstream in(marker);
    const std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (old == text) return;
    if (!force)
      throw InputError(fmt::format(
          "{}: holds a different sweep; give another --out, or --force to start this one over "
          "(its finished points are deleted)",
          dir.string()));
    std::filesystem::remove_all(dir / "points", ec);
    std::filesystem::remove(dir / "results.csv", ec);
    std::filesystem::remove(dir / "results.json", ec);
  } else if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    throw InputError(
        fmt::format("{}: exists and is not a sweep folder (no sweep.json)", dir.string()));
  }
  std::filesystem::create_directories(dir / "points", ec);
  if (ec) throw InputError(fmt::format("{}: cannot create ({})", dir.string(), ec.message()));
  write_file_atomically(marker, text);
}

}  // namespace

SweepSpec SweepSpec::load(const std::filesystem::path& path, const ConfigLocations& locations) {
  const auto ordered = read_ordered_json_file(path);
  const nlohmann::json json = ordered;
  ConfigObject root(json, path.string());
  SweepSpec s;
  s.name = root.string_or("name", path.stem().string());
  s.description = root.string_or("description", "");
  s.base_text = root.string("base");
  s.base = root.experiment_file("base", locations, path);
  s.grid = parse_grid(root, ordered);
  s.points = parse_list(root, ordered);
  s.frontier = root.boolean_or("frontier", false);
  root.finish();
  if (s.grid.empty() && s.points.empty())
    throw InputError(
        fmt::format("{}: the sweep has no points: give a non-empty 'grid' and/or "
                    "'points'",
                    path.string()));
  double count = static_cast<double>(std::max<std::size_t>(s.points.size(), 1));
  for (const auto& [key, values] : s.grid) count *= static_cast<double>(values.size());
  if (count > static_cast<double>(kMaxPoints))
    throw InputError(fmt::format("{}: {:.0f} points, more than the {} a sweep may have",
                                 path.string(), count, kMaxPoints));
  return s;
}

nlohmann::ordered_json SweepSpec::to_json() const {
  nlohmann::ordered_json grid_json = nlohmann::ordered_json::object();
  for (const auto& [key, values] : grid) grid_json[key] = values;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& o : points) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    for (const auto& [key, value] : o) entry[key] = value;
    list.push_back(entry);
  }
  return {{"name", name},   {"description", description}, {"base", base_text}, {"grid", grid_json},
          {"points", list}, {"frontier", frontier}};
}

std::vector<SweepPoint> expand_points(const SweepSpec& spec) {
  const std::vector<Overrides> list =
      spec.points.empty() ? std::vector<Overrides>{{}} : spec.points;
  std::vector<SweepPoint> out;
  for (const auto& entry : list) {
    std::vector<std::size_t> at(spec.grid.size(), 0);
    while (true) {
      SweepPoint p{static_cast<int>(out.size()), entry};
      for (std::size_t k = 0; k < spec.grid.size(); ++k)
        p.overrides.emplace_back(spec.grid[k].first, spec.grid[k].second[at[k]]);
      out.push_back(std::move(p));
      std::size_t k = spec.grid.size();  // advance the odometer, last key fastest
      while (k > 0 && ++at[k - 1] == spec.grid[k - 1].second.size()) at[--k] = 0;
      if (k == 0) break;
    }
  }
  return out;
}

namespace {

// The point's experiment; InputError naming the point if it cannot run.
Experiment point_experiment(const SweepSpec& spec, const SweepPoint& p,
                            const ConfigLocations& locations, const PolicyRegistry& registry) {
  try {
    auto x = load_experiment(spec.base, override_strings(p.overrides), locations, registry);
    if (spec.frontier) check_frontier_possible(x);
    return x;
  } catch (const InputError& e) {
    throw InputError(fmt::format("point {} ({}): {}", p.index, describe(p), e.what()));
  }
}

// Runs one point into its folder (committed only when complete).
void run_point(const SweepSpec& spec, const SweepPoint& point, const Experiment& x,
               const std::filesystem::path& dir, const PolicyRegistry& registry,
               const SweepOptions& options, std::mutex& lock) {
  std::unique_ptr<RunDirectory> run_dir;
  {
    const std::lock_guard<std::mutex> guard(lock);
    run_dir = std::make_unique<RunDirectory>(point_folder(dir, point.index));
  }
  RunOptions run;
  run.frontier = spec.frontier;
  run.checkpoint = options.checkpoint;
  const auto runs = write_run(x, registry, run_dir->staging(), run);
  write_file_atomically(run_dir->staged("metrics.json"),
                        point_metrics(point, x.comparison.baseline, runs).dump(2) + "\n");
  const std::lock_guard<std::mutex> guard(lock);
  run_dir->commit();
}

}  // namespace

namespace {

// The leader claims DIR; everyone learns whether that worked.
void prepare_dir_on(const RankGroup& group, const SweepSpec& spec, const std::filesystem::path& dir,
                    bool force) {
  std::string error;
  if (group.leader()) {
    try {
      prepare_dir(spec, dir, force);
    } catch (const InputError& e) {
      error = e.what();
    }
  }
  error = group.broadcast(error);
  if (!error.empty()) throw InputError(error);
}

std::string failures_json(const std::map<int, std::string>& failed) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [point, error] : failed) out[std::to_string(point)] = error;
  return out.dump();
}

std::map<int, std::string> failures_of(const std::string& json) {
  std::map<int, std::string> out;
  const auto parsed = nlohmann::json::parse(json);  // outlives the loop over its items
  for (const auto& [point, error] : parsed.items())
    out.emplace(std::stoi(point), error.get<std::string>());
  return out;
}

// Every member's failures, merged, on every member.
std::map<int, std::string> share_failures(const RankGroup& group,
                                          const std::map<int, std::string>& mine) {
  std::map<int, std::string> all;
  for (const auto& text : group.gather(failures_json(mine))) all.merge(failures_of(text));
  return failures_of(group.broadcast(failures_json(all)));
}

}  // namespace

SweepOutcome run_sweep(const SweepSpec& spec, const std::filesystem::path& dir,
                       const ConfigLocations& locations, const PolicyRegistry& registry,
                       const SweepOptions& options) {
  const auto points = expand_points(spec);
  const RankGroup group = RankGroup::world();
  prepare_dir_on(group, spec, dir, options.force);
  std::vector<int> todo;
  for (const auto& p : points) {
    std::error_code ec;  // the sweep folder was just created, so its points' names are usable
    if (!std::filesystem::exists(point_folder(dir, p.index), ec)) todo.push_back(p.index);
  }
  group.barrier();  // everyone has the same list before any point is committed
  SweepOutcome outcome{static_cast<int>(points.size()),
                       static_cast<int>(todo.size()),
                       static_cast<int>(points.size() - todo.size()),
                       {}};
  std::mutex lock;  // run directories are made and committed one at a time; errors; progress
  int finished = outcome.skipped;
  const auto started = std::chrono::steady_clock::now();
  // Each point's experiment is loaded when it runs and dropped after: memory
  // does not grow with the number of points. A bad point is recorded and the
  // rest go on.
  const auto work = [&](int t) {
    const auto& point = points[static_cast<std::size_t>(todo[static_cast<std::size_t>(t)])];
    std::string error;
    try {
      run_point(spec, point, point_experiment(spec, point, locations, registry), dir, registry,
                options, lock);
    } catch (const InputError& e) {
      error = e.what();
    }
    const std::lock_guard<std::mutex> guard(lock);
    if (!error.empty()) outcome.failed.emplace(point.index, error);
    finished = group.size() > 1 ? outcome.skipped + t + 1 : finished + 1;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    if (options.progress && group.leader())
      options.progress(finished, outcome.points, elapsed.count());
  };
  if (group.size() > 1) {  // ranks take the next point as they come free
    const auto counter = group.make_counter();
    for (auto t = counter->next(); t < static_cast<std::int64_t>(todo.size()); t = counter->next())
      work(static_cast<int>(t));
  } else {
    parallel_for(static_cast<int>(todo.size()), options.jobs, work);
  }
  outcome.failed = share_failures(group, outcome.failed);
  if (group.leader()) {
    std::vector<nlohmann::ordered_json> overrides;
    for (const auto& p : points) {
      nlohmann::ordered_json o = nlohmann::ordered_json::object();
      for (const auto& [key, value] : p.overrides) o[key] = value;
      overrides.push_back(std::move(o));
    }
    write_sweep_results(dir, spec.name, overrides, outcome.failed);
  }
  group.barrier();  // the results exist when any rank returns
  return outcome;
}

}  // namespace vibesim
