#include "outputs/layer_study_outputs.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include "outputs/placement_proofs.h"
#include "outputs/run_header.h"

namespace vibesim {

namespace {

nlohmann::ordered_json recalibration_events_json(const std::vector<RecalibrationEvent>& events) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& e : events)
    out.push_back({{"at_ms", e.at_ms},
                   {"experts_moved", e.experts_moved},
                   {"migration_stall_ms", e.migration_stall_ms}});
  return out;
}

}  // namespace

LayersCsv::LayersCsv(const std::filesystem::path& path)
    : file_(path,
            "policy,iteration,moe_layer,layer_us,straggler_gpu,max_gpu_tokens,mean_gpu_tokens,"
            "barrier_idle_fraction") {}

void LayersCsv::write(const LayerRow& row) {
  double max_tokens = 0, sum_tokens = 0;
  for (const auto& g : row.step.gpus) {
    max_tokens = std::max(max_tokens, g.tokens);
    sum_tokens += g.tokens;
  }
  fmt::print(file_.stream(), "{},{},{},{:.3f},{},{:.0f},{:.1f},{:.5f}\n", row.policy, row.iteration,
             row.moe_layer, row.step.layer.us(), row.step.straggler_gpu, max_tokens,
             sum_tokens / static_cast<double>(row.step.gpus.size()),
             row.step.barrier_idle_fraction());
}

nlohmann::ordered_json layer_study_summary_json(const Experiment& x, const LayerStudyResult& r) {
  auto out = run_header_json(x);
  out["recalibration"] = name_of(kRecalibrationControllers, x.recalibration.controller);
  out["batch_tokens"] = x.workload.batch_tokens;
  out["gpus"] = nlohmann::ordered_json::array();
  for (std::size_t g = 0; g < r.gpus.size(); ++g) {
    const auto& s = r.gpus[g];
    out["gpus"].push_back({{"gpu", g},
                           {"voltage_offset_v", s.variation.voltage_offset_v},
                           {"leakage_factor", s.variation.leakage_factor},
                           {"memory_factor", s.variation.memory_factor},
                           {"compute_bound_clock_fraction", s.compute_bound_clock_fraction},
                           {"memory_bound_clock_fraction", s.memory_bound_clock_fraction},
                           {"balanced_kernel_time_rel", s.balanced_kernel_time_rel}});
  }
  out["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : r.policies) {
    out["policies"].push_back(
        {{"policy", p.policy},
         {"layer_steps", p.layer_steps},
         {"layer_latency_us",
          {{"p50", p.latency_p50_us},
           {"p90", p.latency_p90_us},
           {"p99", p.latency_p99_us},
           {"mean", p.latency_mean_us}}},
         {"barrier_idle_fraction", p.barrier_idle_fraction},
         {"max_over_mean_gpu_tokens", p.max_over_mean_tokens},
         {"predicted_latency_us", p.predicted_latency_us},
         {"predicted_gap_to_lower_bound", p.predicted_gap_to_bound},
         {"straggler_histogram", p.straggler_counts},
         {"gpu_layer_idle_fraction", p.gpu_layer_idle_fraction},
         {"recalibrations", p.recalibration.recalibrations},
         {"experts_moved", p.recalibration.experts_moved},
         {"experts_moved_per_layer_per_recalibration",
          p.recalibration.experts_moved_per_layer_per_recalibration(x.model.num_moe_layers())},
         {"migration_stall_ms", p.recalibration.migration_stall_ms},
         {"reprofiles", p.recalibration.reprofiles},
         {"recalibration_events", recalibration_events_json(p.recalibration.events)},
         {"layer_latency_after_first_gpu_event_us",
          {{"p50", p.after_event_p50_us}, {"p90", p.after_event_p90_us}}},
         {"simulated_time_ms", p.simulated_time.ms()}});
    if (!p.proofs.empty()) out["policies"].back()["proofs"] = proofs_json(p.proofs);
  }
  return out;
}

void print_layer_study_tables(std::ostream& out, const Experiment& x, const LayerStudyResult& r) {
  fmt::print(out, "\n{:<14} {:>9} {:>9} {:>9} {:>7} {:>12} {:>9} {:>9}\n", "policy", "p50 us",
             "p90 us", "p99 us", "idle %", "max/mean tok", "pred us", "gap LB %");
  for (const auto& p : r.policies)
    fmt::print(out, "{:<14} {:>9.1f} {:>9.1f} {:>9.1f} {:>7.2f} {:>12.3f} {:>9.1f} {:>9.2f}\n",
               p.policy, p.latency_p50_us, p.latency_p90_us, p.latency_p99_us,
               100 * p.barrier_idle_fraction, p.max_over_mean_tokens, p.predicted_latency_us,
               100 * p.predicted_gap_to_bound);
  fmt::print(
      out,
      "(pred: max over GPUs of profiled f_g(n) + all-to-all time per token x n under the recorded "
      "loads, mean over layers; gap LB: its distance to the per-layer lower bound)\n");
  for (const auto& p : r.policies)
    if (!p.proofs.empty()) print_proof_line(out, p.policy, p.proofs);
  if (x.recalibration.controller != RecalibrationKind::kNever) {
    fmt::print(out, "\nrecalibration ({}):\n{:<14} {:>8} {:>14} {:>12} {:>12}\n",
               name_of(kRecalibrationControllers, x.recalibration.controller), "policy",
               "re-placed", "experts moved", "moved/layer", "stall ms");
    for (const auto& p : r.policies)
      fmt::print(
          out, "{:<14} {:>8} {:>14} {:>12.2f} {:>12.3f}\n", p.policy,
          p.recalibration.recalibrations, p.recalibration.experts_moved,
          p.recalibration.experts_moved_per_layer_per_recalibration(x.model.num_moe_layers()),
          p.recalibration.migration_stall_ms);
  }
  if (!x.gpu_events.empty()) {
    fmt::print(out, "\nfrom the first GPU event (at {:.1f} ms) on:\n{:<14} {:>9} {:>9}\n",
               static_cast<double>(
                   std::min_element(x.gpu_events.begin(), x.gpu_events.end(),
                                    [](const auto& a, const auto& b) { return a.at < b.at; })
                       ->at.ns()) *
                   1e-6,
               "policy", "p50 us", "p90 us");
    for (const auto& p : r.policies)
      fmt::print(out, "{:<14} {:>9.1f} {:>9.1f}\n", p.policy, p.after_event_p50_us,
                 p.after_event_p90_us);
  }
  fmt::print(out, "\nstraggler histogram (layer steps each GPU finished last):\n{:<14}", "policy");
  for (std::size_t g = 0; g < r.gpus.size(); ++g) fmt::print(out, " {:>6}", fmt::format("g{}", g));
  fmt::print(out, "\n");
  for (const auto& p : r.policies) {
    fmt::print(out, "{:<14}", p.policy);
    for (auto c : p.straggler_counts) fmt::print(out, " {:>6}", c);
    fmt::print(out, "\n");
  }
}

}  // namespace vibesim
