#include "outputs/throttled_progress.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace vibesim {

ThrottledProgress::ThrottledProgress(std::ostream* out, std::string unit,
                                     std::int64_t total_per_policy, int clock_stride)
    : out_(out),
      unit_(std::move(unit)),
      total_(total_per_policy),
      clock_stride_(clock_stride),
      started_(clock::now()),
      next_(started_ + kInterval) {}

void ThrottledProgress::count(const std::string& policy) {
  if (out_ == nullptr) return;
  if (policy != policy_) policy_ = policy, done_ = 0;
  ++done_;
  if (++since_clock_ < clock_stride_) return;
  since_clock_ = 0;
  const auto now = clock::now();
  if (now < next_) return;
  next_ = now + kInterval;
  const std::chrono::duration<double> elapsed = now - started_;
  fmt::print(*out_, "  {}: {} of {} {} ({:.0f} s)\n", policy_, done_, total_, unit_,
             elapsed.count());
  out_->flush();
}

}  // namespace vibesim
