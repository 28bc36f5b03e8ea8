#include "outputs/run_writer.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "base/parallel_for.h"
#include "io/atomic_file.h"
#include "models/gpu_latency_profile.h"
#include "outputs/layer_study_outputs.h"
#include "outputs/seed_summary.h"
#include "outputs/serving_outputs.h"
#include "outputs/throttled_progress.h"

namespace vibesim {

namespace {

void write_json(const std::filesystem::path& path, const nlohmann::ordered_json& json) {
  write_file_atomically(path, json.dump(2) + "\n");
}

// The serving form of a run: requests.csv, summary.json, the frontier when asked for.
std::vector<PolicyMetrics> serve(const Experiment& x, const PolicyRegistry& registry,
                                 const std::filesystem::path& folder, const RunOptions& options,
                                 std::ostream* tables) {
  const auto requests = experiment_requests(x);
  RequestsCsv csv(folder / "requests.csv");
  ServingResult result;
  result.requests = requests.size();
  auto* timeline = options.timeline;
  ThrottledProgress progress(options.progress, "requests finished",
                             static_cast<std::int64_t>(requests.size()), 1);
  ServingObservers observe;
  observe.checkpoint = options.checkpoint;
  observe.request_finished = [&](const std::string& policy, const RequestRecord& r) {
    if (options.checkpoint) options.checkpoint();
    progress.count(policy);
    csv.write(policy, r);
    if (timeline != nullptr) timeline->request(policy, r);
  };
  if (timeline != nullptr) {
    observe.iteration_ended = [&](const IterationRecord& r) { timeline->iteration(r); };
    observe.layer_step = [&](const LayerRow& row) { timeline->layer_step(row); };
  }
  result.policies = run_serving(x, registry, requests, observe, options.jobs);
  csv.close();
  if (timeline != nullptr)
    for (const auto& p : result.policies)
      timeline->recalibrations(p.policy, p.recalibration.events);
  if (options.frontier)
    result.frontier =
        slo_frontier(x, registry, ServingObservers::polling(options.checkpoint), options.jobs);
  write_json(folder / "summary.json", serving_summary_json(x, result));
  if (tables != nullptr) print_serving_tables(*tables, x, result);
  return headline_metrics(result.policies, result.frontier);
}

// The layer study: layers.csv, summary.json, the profiled curves and recorded loads.
std::vector<PolicyMetrics> study_layers(const Experiment& x, const PolicyRegistry& registry,
                                        const std::filesystem::path& folder,
                                        const RunOptions& options, std::ostream* tables) {
  LayersCsv layers(folder / "layers.csv");
  ThrottledProgress progress(
      options.progress, "layer steps",
      static_cast<std::int64_t>(x.workload.iterations) * x.model.num_moe_layers(), 1024);
  const auto result = run_layer_study(
      x, registry,
      [&](const LayerRow& row) {
        if (options.checkpoint) options.checkpoint();
        progress.count(row.policy);
        layers.write(row);
        if (options.timeline != nullptr) options.timeline->layer_step(row);
      },
      options.checkpoint, options.jobs);
  layers.close();
  if (options.timeline != nullptr)
    for (const auto& p : result.policies)
      options.timeline->recalibrations(p.policy, p.recalibration.events);
  write_json(folder / "summary.json", layer_study_summary_json(x, result));
  write_json(folder / "gpu_profile.json", gpu_latency_profile_json(result.gpu_latency));
  write_file_atomically(folder / "expert_loads.json",
                        nlohmann::json{{"logical_count", result.expert_loads}}.dump() + "\n");
  if (tables != nullptr) print_layer_study_tables(*tables, x, result);
  return headline_metrics(result, !x.gpu_events.empty());
}

// One seed's complete run in `folder`.
std::vector<PolicyMetrics> write_one_seed(const Experiment& x, const PolicyRegistry& registry,
                                          const std::filesystem::path& folder,
                                          const RunOptions& options, std::ostream* tables) {
  auto metrics = x.serving_enabled ? serve(x, registry, folder, options, tables)
                                   : study_layers(x, registry, folder, options, tables);
  write_json(folder / "config.resolved.json", x.to_json());
  return metrics;
}

std::vector<SeedMetrics> write_seeds(const Experiment& x, const PolicyRegistry& registry,
                                     const std::filesystem::path& folder,
                                     const RunOptions& options) {
  const int seeds = x.comparison.seeds;
  std::vector<SeedMetrics> runs(static_cast<std::size_t>(seeds));
  std::mutex lock;  // progress lines
  const auto started = std::chrono::steady_clock::now();
  parallel_for(seeds, options.jobs, [&](int i) {
    const auto one = seed_experiment(x, i);
    const auto seed_folder = folder / fmt::format("seed-{}", one.seed);
    std::filesystem::create_directories(seed_folder);
    auto seed_options = options;
    seed_options.jobs = options.jobs / std::min(options.jobs, seeds);  // what the seeds leave, >= 1
    if (i > 0) seed_options.timeline = nullptr;  // the first seed's timeline only
    seed_options.progress = nullptr;             // a line per seed, below
    runs[static_cast<std::size_t>(i)] = {
        one.seed, write_one_seed(one, registry, seed_folder, seed_options, nullptr)};
    if (options.progress != nullptr) {
      const std::lock_guard<std::mutex> guard(lock);
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
      fmt::print(*options.progress, "seed {} done ({:.1f} s)\n", one.seed, elapsed.count());
    }
  });
  write_json(folder / "summary.json", seed_summary_json(x, runs));
  write_json(folder / "config.resolved.json", x.to_json());
  if (options.tables != nullptr) print_seed_tables(*options.tables, x, runs);
  return runs;
}

}  // namespace

OutputEstimate estimate_output(const Experiment& x) {
  // Typical row lengths of the two files, rounded up.
  constexpr double kLayerRowBytes = 64, kRequestRowBytes = 96;
  const double runs =
      static_cast<double>(x.comparison.seeds) * static_cast<double>(x.policies.size());
  if (x.serving_enabled) {
    // A trace replayed whole (count 0) is as long as the file: not known before reading it.
    const double requests = static_cast<double>(x.serving.requests.count);
    return {"requests.csv", runs * requests, runs * requests * kRequestRowBytes};
  }
  const double rows = runs * static_cast<double>(x.workload.iterations) *
                      static_cast<double>(x.model.num_moe_layers());
  return {"layers.csv", rows, rows * kLayerRowBytes};
}

std::vector<SeedMetrics> write_run(const Experiment& x, const PolicyRegistry& registry,
                                   const std::filesystem::path& folder, const RunOptions& options) {
  if (x.comparison.seeds > 1) return write_seeds(x, registry, folder, options);
  return {{x.seed, write_one_seed(x, registry, folder, options, options.tables)}};
}

}  // namespace vibesim
