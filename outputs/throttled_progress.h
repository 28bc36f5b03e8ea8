#pragma once
// A progress line at most every 10 s of long work (a serving run with one
// token per iteration, a placement of thousands of GPUs): each policy's units
// done of its total, and, once any line has been printed, a last line when a
// policy's units are all done. Short work prints nothing, so its output does
// not depend on timing.
#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace vibesim {

class ThrottledProgress {
 public:
  // Lines go to `out` (none when null), e.g. "  eplb: 106 of 1000 requests
  // finished (40 s)" for unit "requests finished". The clock is read every
  // `clock_stride` counts (layer steps come by the million).
  using clock = std::chrono::steady_clock;
  ThrottledProgress(std::ostream* out, std::string unit, std::int64_t total_per_policy,
                    int clock_stride, std::function<clock::time_point()> now = clock::now);

  // Counts one unit of `policy` (units of one policy arrive together, in order).
  void count(const std::string& policy);

 private:
  void print(clock::time_point now);

  static constexpr std::chrono::seconds kInterval{10};
  std::ostream* out_;
  std::string unit_;
  std::int64_t total_;
  int clock_stride_;
  std::function<clock::time_point()> now_;  // the steady clock; a test's own
  clock::time_point started_, next_;
  std::string policy_;
  std::int64_t done_ = 0;
  int since_clock_ = 0;
  bool printed_ = false;
};

}  // namespace vibesim
