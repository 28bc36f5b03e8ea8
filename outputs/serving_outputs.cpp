#include "outputs/serving_outputs.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "outputs/placement_proofs.h"
#include "outputs/run_header.h"

namespace vibesim {

namespace {

nlohmann::ordered_json percentiles_json(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}};
}

// A JSON number, or null for NaN (no requests in the window).
nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

nlohmann::ordered_json events_json(const ServingSummary& p) {
  auto out = nlohmann::ordered_json::array();
  const auto& events = p.recalibration.events;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& t = p.ttft_around_recalibrations[i];
    out.push_back({{"at_ms", events[i].at_ms},
                   {"experts_moved", events[i].experts_moved},
                   {"migration_stall_ms", events[i].migration_stall_ms},
                   {"ttft_p90_ms_before", number_or_null(t.p90_before_ms)},
                   {"ttft_p90_ms_after", number_or_null(t.p90_after_ms)},
                   {"requests_before", t.requests_before},
                   {"requests_after", t.requests_after}});
  }
  return out;
}

nlohmann::ordered_json policy_json(const ServingSummary& p) {
  const auto share = p.time.shares();
  nlohmann::ordered_json out = {{"policy", p.policy},
                                {"requests", p.requests},
                                {"ttft_ms", percentiles_json(p.ttft_ms)},
                                {"tpot_ms", percentiles_json(p.tpot_ms)},
                                {"e2e_ms", percentiles_json(p.e2e_ms)},
                                {"slo_attainment", p.slo_attainment},
                                {"ttft_attainment", p.ttft_attainment},
                                {"tpot_attainment", p.tpot_attainment},
                                {"goodput_requests_per_s", p.goodput_rps},
                                {"throughput_output_tokens_per_s", p.throughput_tokens_per_s},
                                {"requests_per_s", p.requests_per_s},
                                {"duration_s", p.duration_s},
                                {"iterations", p.iterations},
                                {"moe_layer_steps", p.moe_layer_steps},
                                {"barrier_idle_fraction", p.barrier_idle_fraction},
                                {"recalibrations", p.recalibration.recalibrations},
                                {"experts_moved", p.recalibration.experts_moved},
                                {"migration_stall_ms", p.recalibration.migration_stall_ms},
                                {"reprofiles", p.recalibration.reprofiles},
                                {"recalibration_events", events_json(p)},
                                {"time_share",
                                 {{"moe_kernel", share.moe_kernel},
                                  {"attention", share.attention},
                                  {"other", share.other},
                                  {"communication", share.communication()},
                                  {"all_to_all", share.all_to_all},
                                  {"all_reduce", share.all_reduce},
                                  {"barrier_wait", share.barrier_wait}}},
                                {"host_overhead_s", p.time.host_s}};
  if (!p.proofs.empty()) out["proofs"] = proofs_json(p.proofs);
  return out;
}

}  // namespace

RequestsCsv::RequestsCsv(const std::filesystem::path& path)
    : file_(path,
            "policy,request,arrival_ms,input_tokens,output_tokens,first_token_ms,finish_ms,"
            "ttft_ms,tpot_ms,e2e_ms,slo_met") {}

void RequestsCsv::write(const std::string& policy, const RequestRecord& r) {
  fmt::print(file_.stream(), "{},{},{:.3f},{},{},{:.3f},{:.3f},{:.3f},{:.4f},{:.3f},{}\n", policy,
             r.request->id, (r.request->arrival - SimTime{}).ms(), r.request->input_tokens,
             r.output_tokens, (r.first_token - SimTime{}).ms(), (r.finish - SimTime{}).ms(),
             r.ttft_ms(), r.tpot_ms(), r.e2e_ms(), r.slo_met ? 1 : 0);
}

nlohmann::ordered_json serving_summary_json(const Experiment& x, const ServingResult& r) {
  auto out = run_header_json(x);
  out["mode"] = name_of(kServingModes, x.serving.mode);
  out["deployment"] = name_of(kDeployments, x.serving.deployment);
  out["requests"] = r.requests;
  out["slo"] = {{"ttft_ms", x.serving.slo_ttft_ms}, {"tpot_ms", x.serving.slo_tpot_ms}};
  out["policies"] = nlohmann::ordered_json::array();
  for (const auto& p : r.policies) out["policies"].push_back(policy_json(p));
  if (!r.frontier.empty()) {
    out["frontier"] = {{"target", x.serving.frontier_target},
                       {"points", nlohmann::ordered_json::array()}};
    for (const auto& f : r.frontier)
      out["frontier"]["points"].push_back({{"policy", f.policy},
                                           {"max_requests_per_s_per_gpu", f.max_rate_per_gpu},
                                           {"attainment_at_max", f.attainment_at_max},
                                           {"runs", f.runs}});
  }
  return out;
}

void print_serving_tables(std::ostream& o, const Experiment& x, const ServingResult& r) {
  fmt::print(o, "\n{:<12} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>7}\n", "policy",
             "requests", "TTFT p50", "TTFT p90", "TTFT p99", "TPOT p50", "TPOT p90", "SLO %",
             "tok/s", "idle %");
  for (const auto& p : r.policies)
    fmt::print(
        o, "{:<12} {:>8} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.2f} {:>9.2f} {:>8.1f} {:>9.0f} {:>7.2f}\n",
        p.policy, p.requests, p.ttft_ms.p50, p.ttft_ms.p90, p.ttft_ms.p99, p.tpot_ms.p50,
        p.tpot_ms.p90, 100 * p.slo_attainment, p.throughput_tokens_per_s,
        100 * p.barrier_idle_fraction);
  fmt::print(o, "(times in ms; SLO: TTFT <= {} ms and TPOT <= {} ms)\n", x.serving.slo_ttft_ms,
             x.serving.slo_tpot_ms);
  fmt::print(o,
             "\ntime share (mean GPU; communication = all-to-all + all-reduce + barrier wait):\n"
             "{:<12} {:>8} {:>9} {:>7} {:>7} {:>10} {:>10} {:>7}\n",
             "policy", "MoE FFN", "attention", "other", "comm", "all-to-all", "all-reduce", "wait");
  for (const auto& p : r.policies) {
    const auto s = p.time.shares();
    fmt::print(o, "{:<12} {:>7.1f}% {:>8.1f}% {:>6.1f}% {:>6.1f}% {:>9.1f}% {:>9.1f}% {:>6.1f}%\n",
               p.policy, 100 * s.moe_kernel, 100 * s.attention, 100 * s.other,
               100 * s.communication(), 100 * s.all_to_all, 100 * s.all_reduce,
               100 * s.barrier_wait);
  }
  for (const auto& p : r.policies)
    if (!p.proofs.empty()) print_proof_line(o, p.policy, p.proofs);
  if (r.frontier.empty()) return;
  fmt::print(o, "\nSLO frontier (max requests/s per GPU with >= {:.0f} % meeting both SLOs):\n",
             100 * x.serving.frontier_target);
  for (const auto& f : r.frontier)
    fmt::print(o, "{:<12} {:>9.3f}   (attainment {:.3f}, {} runs)\n", f.policy, f.max_rate_per_gpu,
               f.attainment_at_max, f.runs);
}

}  // namespace vibesim
