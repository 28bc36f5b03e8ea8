#include "fuzz/fuzz_targets.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/config_error.h"
#include "io/config_object.h"
#include "models/expert_location_file.h"
#include "models/gpu_latency_profile.h"
#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "models/variability_fit.h"
#include "models/variability_profile.h"
#include "policies/policy_registry.h"
#include "sim/experiment.h"
#include "studies/fidelity.h"
#include "studies/quality_check.h"
#include "studies/sweep.h"
#include "traces/expert_load_file.h"
#include "traces/formats/trace_formats.h"
#include "traces/request_trace.h"
#include "traces/routing_fit.h"
#include "traces/synthetic_routing.h"
#include "traces/trace_format.h"

namespace vibesim {

namespace {

using std::filesystem::path;

std::vector<std::string> lines_of(const path& input) {
  std::ifstream in(input, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// An experiment that loads must load again, unchanged, from what it resolves
// to (config.resolved.json is a run's record of what it ran).
void check_experiment_round_trip(const Experiment& x, const FuzzScratch& scratch) {
  const auto resolved = scratch.folder / "resolved.json";
  const auto text = x.to_json().dump(2);
  std::ofstream(resolved, std::ios::binary) << text;
  std::string again_text;
  try {
    again_text = load_experiment(resolved, {}, scratch.locations, PolicyRegistry::builtin())
                     .to_json()
                     .dump(2);
  } catch (const InputError& e) {  // what a run wrote must load: not a refusal of the input
    throw FuzzContractViolation(fmt::format("config.resolved.json does not load: {}", e.what()));
  }
  if (again_text != text)
    throw FuzzContractViolation("config.resolved.json does not load back to the same experiment");
}

void parse_experiment(const path& input, const FuzzScratch& scratch) {
  const auto x = load_experiment(input, {}, scratch.locations, PolicyRegistry::builtin());
  check_experiment_round_trip(x, scratch);
}

// Each line of the input is one `--set KEY=VALUE`, applied to the quickstart.
void parse_overrides(const path& input, const FuzzScratch& scratch) {
  const auto x = load_experiment(scratch.locations.config_dir / "experiments" / "quickstart.json",
                                 lines_of(input), scratch.locations, PolicyRegistry::builtin());
  check_experiment_round_trip(x, scratch);
}

// As `vibesim profile fit CSV --gpu-col uuid --time-col perf --clock-col freq
// --power-col pwr --temp-col temp` does: fit, write, and read the profile back.
void fit_profile(const path& input, const FuzzScratch&) {
  VariabilityFitColumns columns{"uuid", "perf", "freq", "pwr", "temp"};
  const auto fit = fit_variability(input, columns);
  const nlohmann::json profile = variability_profile_json(fit, "fuzz", "fuzz");
  ConfigObject written(profile, input.string());
  (void)parse_variability_profile(written, "fuzz");
}

// As `vibesim trace generate --from FIT` does: load the fit, then draw a few
// small and large batches of its first layers. The draws must end (a fit with
// fewer popular experts than top-k once made the sampler spin) and give each
// batch tokens x top-k assignments, no expert more than once per token.
void draw_from_routing_fit(const path& input, const FuzzScratch&) {
  SyntheticRoutingSpec spec;
  spec.distribution = PopularityDistribution::kFitted;
  spec.fit = std::make_shared<const RoutingFit>(RoutingFit::load(input));
  spec.fit_path.resolved = input;
  spec.fit_mapping = {LayerMapping::kCycle, ExpertMapping::kExact};
  spec.pool_size = 2;
  const int layers = static_cast<int>(std::min<std::size_t>(spec.fit->layers.size(), 2));
  SyntheticRouting routing(layers, spec.fit->num_experts, spec.fit->top_k, spec, 1, 2);
  for (int layer = 0; layer < layers; ++layer)
    for (const std::int64_t tokens : {1, 3, 300}) {
      const auto counts = routing.next_counts({layer, tokens});
      std::int64_t sum = 0;
      for (const std::int32_t c : counts) {
        if (c < 0 || c > tokens)
          throw FuzzContractViolation(fmt::format("an expert got {} of {} tokens", c, tokens));
        sum += c;
      }
      if (sum != tokens * spec.fit->top_k)
        throw FuzzContractViolation(
            fmt::format("{} assignments for {} tokens of top-{}", sum, tokens, spec.fit->top_k));
    }
}

void parse_fit_values(const path& input, const FuzzScratch& scratch) {
  const auto spec = FidelitySpec::load(
      scratch.locations.config_dir / "fidelity" / "paper-mi325x.json", scratch.locations);
  (void)load_parameter_values(input, spec);
}

const std::array<FuzzTarget, 18> kTargets{{
    {"experiment",
     "an experiment file (vibesim run EXPERIMENT), loaded and round-tripped",
     "experiment.json",
     {"configs/experiments"},
     parse_experiment},
    {"set_overrides",
     "--set KEY=VALUE overrides, one per line, on the quickstart experiment",
     "overrides.txt",
     {"fuzz/corpus/set_overrides"},
     parse_overrides},
    {"gpu_sku",
     "a GPU SKU file with its variability profiles (configs/gpus/)",
     "gpu.json",
     {"configs/gpus"},
     [](const path& input, const FuzzScratch&) { (void)load_gpu_sku(input); }},
    {"moe_model",
     "a model file (configs/models/)",
     "model.json",
     {"configs/models"},
     [](const path& input, const FuzzScratch&) { (void)load_moe_model(input); }},
    {"binary_trace",
     "vibesim's binary routing trace (.vbt)",
     "trace.vbt",
     {"fuzz/corpus/binary_trace"},
     [](const path& input, const FuzzScratch&) {
       (void)read_binary_trace(input, kTraceExpertLimit);
     }},
    {"routing_trace",
     "a routing trace in any format, detected from its content",
     "trace.csv",
     {"fuzz/corpus/routing_trace", "fuzz/corpus/binary_trace"},
     [](const path& input, const FuzzScratch&) { (void)read_routing_trace(input); }},
    {"request_csv",
     "a request trace in the Azure LLM inference CSV form",
     "requests.csv",
     {"data/requests/azure-llm-2023"},
     [](const path& input, const FuzzScratch&) { (void)read_request_trace(input); }},
    {"request_jsonl",
     "a request trace as JSON lines",
     "requests.jsonl",
     {"fuzz/corpus/request_jsonl"},
     [](const path& input, const FuzzScratch&) { (void)read_request_trace(input); }},
    {"expert_loads_csv",
     "vibesim place --loads as CSV layer,expert,count",
     "loads.csv",
     {"fuzz/corpus/routing_trace"},
     [](const path& input, const FuzzScratch&) { (void)read_expert_loads(input); }},
    {"expert_loads_json",
     "vibesim place --loads as SGLang's logical_count JSON",
     "loads.json",
     {"fuzz/corpus/expert_loads_json"},
     [](const path& input, const FuzzScratch&) { (void)read_expert_loads(input); }},
    {"latency_profile",
     "vibesim place --profile: per-GPU latency curves",
     "gpu_profile.json",
     {"fuzz/corpus/latency_profile"},
     [](const path& input, const FuzzScratch&) { (void)read_gpu_latency_profile(input); }},
    {"expert_location",
     "vibesim place --current: an SGLang expert-location file (read for 2 GPUs)",
     "current.json",
     {"fuzz/corpus/expert_location"},
     [](const path& input, const FuzzScratch&) { (void)read_expert_location_file(input, 2); }},
    {"routing_fit",
     "a routing fit (vibesim trace fit's output; trace generate --from, routing.fit), loaded "
     "and drawn from",
     "fit.json",
     {"configs/routing"},
     draw_from_routing_fit},
    {"profile_fit_csv",
     "the per-GPU measurements CSV that vibesim profile fit reads",
     "fleet.csv",
     {"data/variability/longhorn-v100"},
     fit_profile},
    {"fidelity_spec",
     "a facts file (vibesim fidelity)",
     "facts.json",
     {"configs/fidelity"},
     [](const path& input, const FuzzScratch& scratch) {
       (void)FidelitySpec::load(input, scratch.locations);
     }},
    {"fidelity_values",
     "a fit's output file (vibesim fidelity report --values)",
     "fit.json",
     {"configs/fidelity"},
     parse_fit_values},
    {"check_baseline",
     "a quality-check baseline (vibesim check)",
     "checks.json",
     {"configs/checks"},
     [](const path& input, const FuzzScratch& scratch) {
       (void)Baseline::load(input, scratch.locations);
     }},
    {"sweep_spec",
     "a sweep file (vibesim sweep)",
     "sweep.json",
     {"configs/sweeps"},
     [](const path& input, const FuzzScratch& scratch) {
       (void)SweepSpec::load(input, scratch.locations);
     }},
}};

}  // namespace

std::span<const FuzzTarget> fuzz_targets() {
  return kTargets;
}

const FuzzTarget* find_fuzz_target(std::string_view name) {
  for (const auto& t : kTargets)
    if (name == t.name) return &t;
  return nullptr;
}

void run_fuzz_target(const FuzzTarget& target, std::string_view bytes, const FuzzScratch& scratch) {
  const auto input = scratch.folder / target.file_name;
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    target.parse(input, scratch);
  } catch (const InputError& e) {
    const std::string_view message = e.what();
    if (message.empty() || message.find('\n') != std::string_view::npos)
      throw FuzzContractViolation(
          fmt::format("{}: the refusal is not one line: \"{}\"", target.name, message));
    if (std::string_view(target.name) != "set_overrides" &&
        message.find(target.file_name) == std::string_view::npos)
      throw FuzzContractViolation(
          fmt::format("{}: the refusal does not name the file: \"{}\"", target.name, message));
  }
}

FuzzScratch make_fuzz_scratch() {
  FuzzScratch s;
  s.folder = std::filesystem::temp_directory_path() /
             fmt::format("vibesim-fuzz-{}", static_cast<long>(::getpid()));
  std::filesystem::create_directories(s.folder);
  s.locations = ConfigLocations::from_environment();
  return s;
}

}  // namespace vibesim
