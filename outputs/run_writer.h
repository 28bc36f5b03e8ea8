#pragma once
// Writes the whole of one `vibesim run` into a (staging) folder. One seed:
// the run's files (docs/outputs.md). Several seeds (comparison.seeds): each
// seed's run complete in seed-<seed>/ (its own config.resolved.json reruns
// it), and at the top summary.json with every policy's mean and 95 % interval
// over seeds (outputs/seed_summary.h) and the experiment's config.resolved.json.
// Seeds run on `jobs` threads, and a run draws synthetic routing's pools on
// the threads the seeds leave; the files are the same for any number of jobs.
#include <filesystem>
#include <functional>
#include <ostream>
#include <vector>

#include "outputs/seed_summary.h"
#include "outputs/timeline.h"
#include "policies/policy_registry.h"
#include "sim/experiment.h"

namespace vibesim {

struct RunOptions {
  bool frontier = false;  // serving: also the SLO frontier
  int jobs = 1;           // threads: for seeds, then routing pools
  // Called often (per layer step, per finished request); may throw to stop the run.
  std::function<void()> checkpoint;
  std::ostream* tables = nullptr;  // where the result tables go (nullptr: nowhere)
  // A line per finished seed; for one seed, a line at most every 10 s of
  // each policy's requests or layer steps done (nullptr: none).
  std::ostream* progress = nullptr;
  Timeline* timeline = nullptr;  // filled from the first seed's run (nullptr: none)
};

// Returns each seed's headline metrics per policy (one entry for one seed).
std::vector<SeedMetrics> write_run(const Experiment& experiment, const PolicyRegistry& registry,
                                   const std::filesystem::path& folder, const RunOptions& options);

// About how many bytes the run's per-row files (layers.csv, requests.csv)
// will take over all seeds, from their row counts: checked before a run starts.
struct OutputEstimate {
  std::string file;  // the largest per-row file
  double rows = 0, bytes = 0;
};
OutputEstimate estimate_output(const Experiment& experiment);

}  // namespace vibesim
