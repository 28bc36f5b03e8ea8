#include "sim/event_engine.h"

#include <cassert>
#include <stdexcept>

namespace vibesim {

EventEngine::EventId EventEngine::schedule(SimTime at, Callback callback) {
  if (at < now_) throw std::logic_error("EventEngine::schedule: time is in the past");
  const EventId id = next_id_++;
  queue_.push(Entry{at, id});
  callbacks_.emplace(id, std::move(callback));
  return id;
}

bool EventEngine::cancel(EventId id) {
  return callbacks_.erase(id) > 0;
}

std::uint64_t EventEngine::run_until(SimTime limit) {
  std::uint64_t ran = 0;
  while (!queue_.empty() && queue_.top().at <= limit) {
    const Entry entry = queue_.top();
    queue_.pop();
    auto it = callbacks_.find(entry.id);
    if (it == callbacks_.end()) continue;  // cancelled
    Callback callback = std::move(it->second);
    callbacks_.erase(it);
    assert(entry.at >= now_);
    now_ = entry.at;
    callback();
    ++ran;
  }
  if (limit != SimTime::max() && limit > now_) now_ = limit;
  return ran;
}

}  // namespace vibesim
