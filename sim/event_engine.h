#pragma once
// The discrete-event engine: a queue of callbacks ordered by (time, insertion
// sequence), so events at equal times run in the order they were scheduled.
// It is an ordinary object; each simulation owns its own.
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "base/sim_time.h"

namespace vibesim {

class EventEngine {
 public:
  using EventId = std::uint64_t;
  using Callback = std::function<void()>;

  // Schedules `callback` at absolute time `at`, which must not be before now().
  EventId schedule(SimTime at, Callback callback);
  EventId schedule_after(SimDuration delay, Callback callback) {
    return schedule(now_ + delay, std::move(callback));
  }
  // Returns false if the event already ran or was cancelled.
  bool cancel(EventId id);

  // Runs events with time <= `limit`, in order, then advances the clock to
  // `limit` (run() leaves it at the last event). Returns the number of events run.
  std::uint64_t run_until(SimTime limit);
  std::uint64_t run() { return run_until(SimTime::max()); }

  [[nodiscard]] SimTime now() const { return now_; }
  [[nodiscard]] std::size_t pending() const { return callbacks_.size(); }

 private:
  struct Entry {
    SimTime at;
    EventId id;  // ids grow with insertion, so they double as the tie-breaker
    bool operator>(const Entry& o) const { return at != o.at ? at > o.at : id > o.id; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  std::unordered_map<EventId, Callback> callbacks_;  // absent = cancelled or run
  SimTime now_;
  EventId next_id_ = 0;
};

}  // namespace vibesim
