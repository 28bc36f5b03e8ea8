#include "outputs/throttled_progress.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace vibesim {

ThrottledProgress::ThrottledProgress(std::ostream* out, std::string unit,
                                     std::int64_t total_per_policy, int clock_stride,
                                     std::function<clock::time_point()> now)
    : out_(out),
      unit_(std::move(unit)),
      total_(total_per_policy),
      clock_stride_(clock_stride),
      now_(std::move(now)),
      started_(now_()),
      next_(started_ + kInterval) {}

void ThrottledProgress::count(const std::string& policy) {
  if (out_ == nullptr) return;
  if (policy != policy_) policy_ = policy, done_ = 0;
  ++done_;
  if (done_ == total_ && printed_) {
    print(now_());
    return;
  }
  if (++since_clock_ < clock_stride_) return;
  since_clock_ = 0;
  if (const auto now = now_(); now >= next_) print(now);
}

void ThrottledProgress::print(clock::time_point now) {
  next_ = now + kInterval;
  printed_ = true;
  const std::chrono::duration<double> elapsed = now - started_;
  fmt::print(*out_, "  {}: {} of {} {} ({:.0f} s)\n", policy_, done_, total_, unit_,
             elapsed.count());
  out_->flush();
}

}  // namespace vibesim
