#pragma once
// A sweep: one base experiment run at many points, each point a set of
// overrides of any config key (as `vibesim run --set` takes them). The points
// are a list (`points`) times a cartesian grid (`grid`); each runs as a
// `vibesim run` of its own into DIR/points/<index>/, committed atomically, so
// a rerun into the same DIR skips the finished points. docs/studies.md.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/config_locations.h"
#include "policies/policy_registry.h"

namespace vibesim {

using Overrides = std::vector<std::pair<std::string, nlohmann::json>>;  // key path, value

struct SweepSpec {
  std::string name, description;
  std::filesystem::path base;  // the base experiment file, resolved
  std::string base_text;       // as written
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  // key, values
  std::vector<Overrides> points;                                          // the list
  bool frontier = false;  // serving experiments: also find each point's SLO frontier

  // InputError naming the file and key for anything malformed. `base` is a
  // name in configs/experiments or a .json path relative to the sweep file.
  static SweepSpec load(const std::filesystem::path& path, const ConfigLocations& locations);
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct SweepPoint {
  int index = 0;
  Overrides overrides;  // the list entry's, then the grid's
};
// Every list entry (or one empty entry) times every grid combination, the
// grid's last key varying fastest.
std::vector<SweepPoint> expand_points(const SweepSpec& spec);

struct SweepOptions {
  int jobs = 1;        // points run on this many threads; the files are the same for any number
  bool force = false;  // a changed sweep into an existing DIR: start it over
  std::function<void()> checkpoint;
  // Called after each point with (finished, total, seconds so far), from one thread at a time.
  std::function<void(int, int, double)> progress;
};

struct SweepOutcome {
  int points = 0, ran = 0, skipped = 0;  // ran: tried this time (failed ones included)
  std::map<int, std::string> failed;     // point -> its error (it stays unfinished)
};

// Runs the unfinished points and writes DIR/results.csv and DIR/results.json.
// Started by `mpirun -np K` (built with MPI), the K ranks share the points
// dynamically (each takes the next unfinished one as it comes free; one
// thread each) and rank 0 writes the results: the same files as one process.
// A point that cannot load or run (an InputError) is recorded in `failed` and
// in the results with its error; the others go on. InputError if DIR holds
// anything but this sweep (or a changed one without `force`) or cannot be
// written.
SweepOutcome run_sweep(const SweepSpec& spec, const std::filesystem::path& dir,
                       const ConfigLocations& locations, const PolicyRegistry& registry,
                       const SweepOptions& options);

}  // namespace vibesim
