#pragma once
// Simulated time: integer nanoseconds in strong types, so a duration can never
// be mistaken for a point in time or for a bare double of unknown unit.
#include <compare>
#include <cstdint>
#include <limits>

namespace vibesim {

// A length of simulated time, in integer nanoseconds.
class SimDuration {
 public:
  constexpr SimDuration() = default;
  static constexpr SimDuration from_ns(std::int64_t ns) { return SimDuration(ns); }
  // Rounds to the nearest nanosecond; used at the boundary of the (double) cost models.
  static constexpr SimDuration from_ns_rounded(double ns) {
    return SimDuration(static_cast<std::int64_t>(ns < 0 ? ns - 0.5 : ns + 0.5));
  }
  [[nodiscard]] constexpr std::int64_t ns() const { return ns_; }
  [[nodiscard]] constexpr double us() const { return static_cast<double>(ns_) * 1e-3; }
  [[nodiscard]] constexpr double ms() const { return static_cast<double>(ns_) * 1e-6; }
  [[nodiscard]] constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }

  constexpr auto operator<=>(const SimDuration&) const = default;
  constexpr SimDuration operator+(SimDuration o) const { return SimDuration(ns_ + o.ns_); }
  constexpr SimDuration operator-(SimDuration o) const { return SimDuration(ns_ - o.ns_); }
  constexpr SimDuration& operator+=(SimDuration o) {
    ns_ += o.ns_;
    return *this;
  }
  constexpr SimDuration& operator-=(SimDuration o) {
    ns_ -= o.ns_;
    return *this;
  }

 private:
  constexpr explicit SimDuration(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

// A point on the simulated clock, in integer nanoseconds since the start of a run.
class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ns(std::int64_t ns) { return SimTime(ns); }
  static constexpr SimTime max() { return SimTime(std::numeric_limits<std::int64_t>::max()); }
  [[nodiscard]] constexpr std::int64_t ns() const { return ns_; }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(SimDuration d) const { return SimTime(ns_ + d.ns()); }
  constexpr SimTime& operator+=(SimDuration d) {
    ns_ += d.ns();
    return *this;
  }
  constexpr SimDuration operator-(SimTime o) const { return SimDuration::from_ns(ns_ - o.ns_); }

 private:
  constexpr explicit SimTime(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

}  // namespace vibesim
