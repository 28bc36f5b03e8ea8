#pragma once
// `vibesim run --timeline FILE`: a Chrome trace-event JSON file that opens in
// Perfetto (ui.perfetto.dev) or chrome://tracing. One process per policy, in
// it one track per GPU with each MoE layer step's dispatch, kernel, combine
// and barrier wait; serving runs add an iteration track (with each batch's
// composition) and one async span pair per request (queued + prefill until
// its first token, then decode); re-placements are instant events. Bounded:
// the first `max_steps` layer steps and the first `max_steps` iterations of
// each policy, the requests that arrive before the last of them ends, and
// never more than kMaxEvents events in all (about 150 MB), past which it
// stops and says so.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/layer_study.h"
#include "sim/serving_loop.h"

namespace vibesim {

class Timeline {
 public:
  static constexpr std::size_t kMaxEvents = 1'000'000;
  explicit Timeline(std::int64_t max_steps) : max_steps_(max_steps) {}

  void layer_step(const LayerRow& row);
  void iteration(const IterationRecord& record);
  void request(const std::string& policy, const RequestRecord& record);
  void recalibrations(const std::string& policy, const std::vector<RecalibrationEvent>& events);

  [[nodiscard]] nlohmann::ordered_json to_json() const;

 private:
  struct Track {
    int pid = 0;
    std::int64_t steps = 0, iterations = 0;
    double window_end_us = 0;  // where the window's last step or iteration ends
  };
  Track& track(const std::string& policy, int gpus);
  void complete(int pid, int tid, const char* name, double start_us, double duration_us,
                nlohmann::ordered_json args);
  bool room();  // false (and remembered) once kMaxEvents are held

  std::int64_t max_steps_;
  std::map<std::string, Track> tracks_;
  std::vector<nlohmann::ordered_json> events_;
  std::int64_t next_request_id_ = 0;
  bool truncated_ = false;
};

}  // namespace vibesim
