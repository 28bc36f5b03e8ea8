#include "outputs/timeline.h"

#include <algorithm>

#include <fmt/format.h>

namespace vibesim {

namespace {

constexpr int kIterationTid = 1000;  // the serving iteration track, after any GPU's

nlohmann::ordered_json metadata(const char* name, int pid, int tid, const std::string& value) {
  nlohmann::ordered_json e{{"name", name}, {"ph", "M"}, {"pid", pid}};
  if (tid >= 0) e["tid"] = tid;
  e["args"] = {{"name", value}};
  return e;
}

double us(SimTime t) {
  return static_cast<double>(t.ns()) * 1e-3;
}

}  // namespace

Timeline::Track& Timeline::track(const std::string& policy, int gpus) {
  auto [it, added] = tracks_.try_emplace(policy);
  if (added) {
    it->second.pid = static_cast<int>(tracks_.size());
    events_.push_back(metadata("process_name", it->second.pid, -1, "policy " + policy));
    for (int g = 0; g < gpus; ++g)
      events_.push_back(metadata("thread_name", it->second.pid, g, fmt::format("GPU {}", g)));
  }
  return it->second;
}

bool Timeline::room() {
  if (events_.size() < kMaxEvents) return true;
  truncated_ = true;
  return false;
}

void Timeline::complete(int pid, int tid, const char* name, double start_us, double duration_us,
                        nlohmann::ordered_json args) {
  if (duration_us <= 0 || !room()) return;
  events_.push_back({{"name", name},
                     {"ph", "X"},
                     {"pid", pid},
                     {"tid", tid},
                     {"ts", start_us},
                     {"dur", duration_us},
                     {"args", std::move(args)}});
}

void Timeline::layer_step(const LayerRow& row) {
  auto& t = track(row.policy, static_cast<int>(row.step.gpus.size()));
  if (t.steps >= max_steps_) return;
  ++t.steps;
  const double start = us(row.start);
  for (std::size_t g = 0; g < row.step.gpus.size(); ++g) {
    const auto& r = row.step.gpus[g];
    const int tid = static_cast<int>(g);
    const auto args = [&] {
      return nlohmann::ordered_json{
          {"iteration", row.iteration}, {"layer", row.moe_layer}, {"tokens", r.tokens}};
    };
    double at = start;
    complete(t.pid, tid, "dispatch", at, r.dispatch_ns * 1e-3, args());
    at += r.dispatch_ns * 1e-3;
    complete(t.pid, tid, "expert kernel", at, r.compute_ns * 1e-3, args());
    at += r.compute_ns * 1e-3;
    complete(t.pid, tid, "combine", at, r.combine_ns * 1e-3, args());
    at += r.combine_ns * 1e-3;
    complete(t.pid, tid, "barrier wait", at, r.idle_ns * 1e-3, args());
  }
  t.window_end_us =
      std::max(t.window_end_us, start + static_cast<double>(row.step.layer.ns()) * 1e-3);
}

void Timeline::iteration(const IterationRecord& r) {
  auto& t = track(r.policy, 0);
  if (t.iterations == 0)
    events_.push_back(metadata("thread_name", t.pid, kIterationTid, "iterations"));
  if (t.iterations >= max_steps_) return;
  ++t.iterations;
  complete(t.pid, kIterationTid, "iteration", us(r.start), us(r.end) - us(r.start),
           {{"index", r.index},
            {"prefill_tokens", r.prefill_tokens},
            {"prefill_sequences", r.prefill_sequences},
            {"decode_sequences", r.decode_sequences}});
  t.window_end_us = std::max(t.window_end_us, us(r.end));
}

void Timeline::request(const std::string& policy, const RequestRecord& r) {
  const auto it = tracks_.find(policy);
  if (it == tracks_.end()) return;
  const auto& t = it->second;
  // Only requests that arrived inside the window (the iterations recorded so far).
  if (us(r.request->arrival) > t.window_end_us) return;
  const auto id = fmt::format("0x{:x}", next_request_id_++);
  const auto span = [&](const char* name, SimTime from, SimTime to) {
    if (!room()) return;
    const nlohmann::ordered_json common{
        {"name", name}, {"cat", "request"}, {"id", id}, {"pid", t.pid}, {"tid", kIterationTid}};
    auto begin = common, end = common;
    begin["ph"] = "b";
    begin["ts"] = us(from);
    begin["args"] = {{"request", r.request->id},
                     {"input_tokens", r.request->input_tokens},
                     {"output_tokens", r.output_tokens}};
    end["ph"] = "e";
    end["ts"] = us(to);
    events_.push_back(std::move(begin));
    events_.push_back(std::move(end));
  };
  span("queued + prefill", r.request->arrival, r.first_token);
  if (r.finish > r.first_token) span("decode", r.first_token, r.finish);
}

void Timeline::recalibrations(const std::string& policy,
                              const std::vector<RecalibrationEvent>& events) {
  const auto it = tracks_.find(policy);
  if (it == tracks_.end()) return;
  for (const auto& e : events) {
    if (e.at_ms * 1e3 > it->second.window_end_us || !room()) break;
    events_.push_back(
        {{"name", "re-placement"},
         {"ph", "i"},
         {"s", "p"},
         {"pid", it->second.pid},
         {"ts", e.at_ms * 1e3},
         {"args",
          {{"experts_moved", e.experts_moved}, {"migration_stall_ms", e.migration_stall_ms}}}});
  }
}

nlohmann::ordered_json Timeline::to_json() const {
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  for (const auto& e : events_) events.push_back(e);
  return {{"displayTimeUnit", "ns"},
          {"otherData",
           {{"source", "vibesim"},
            {"max_steps_per_policy", max_steps_},
            {"truncated_at_max_events", truncated_}}},
          {"traceEvents", std::move(events)}};
}

}  // namespace vibesim
