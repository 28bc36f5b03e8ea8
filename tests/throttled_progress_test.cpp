#include <doctest/doctest.h>

#include <chrono>
#include <sstream>

#include "outputs/throttled_progress.h"

using namespace vibesim;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct HandClock {
  ThrottledProgress::clock::time_point now{};
  auto reader() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("progress prints nothing for short work, not even its end") {
  HandClock clock;
  std::ostringstream out;
  ThrottledProgress progress(&out, "steps", 3, 1, clock.reader());
  for (int i = 0; i < 3; ++i) {
    clock.now += 1s;
    progress.count("eplb");
  }
  CHECK(out.str().empty());
}

TEST_CASE("progress prints every 10 s and, once it has printed, each policy's end") {
  HandClock clock;
  std::ostringstream out;
  ThrottledProgress progress(&out, "steps", 4, 1, clock.reader());
  for (const char* policy : {"eplb", "vibe"})
    for (int i = 0; i < 4; ++i) {
      clock.now += 4s;
      progress.count(policy);
    }
  // Units at 4, 8, ..., 32 s. Lines: 12 s (the first unit past 10 s), 16 s
  // (eplb done, whatever the interval), 28 s (the first unit 10 s after the
  // line at 16 s), 32 s (vibe done).
  CHECK(out.str() ==
        "  eplb: 3 of 4 steps (12 s)\n"
        "  eplb: 4 of 4 steps (16 s)\n"
        "  vibe: 3 of 4 steps (28 s)\n"
        "  vibe: 4 of 4 steps (32 s)\n");
}
