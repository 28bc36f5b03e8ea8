#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/event_engine.h"

using vibesim::EventEngine;
using vibesim::SimDuration;
using vibesim::SimTime;

namespace {
SimTime at(std::int64_t ns) {
  return SimTime::from_ns(ns);
}
}  // namespace

TEST_CASE("events run in time order") {
  EventEngine engine;
  std::string order;
  engine.schedule(at(30), [&] { order += 'c'; });
  engine.schedule(at(10), [&] { order += 'a'; });
  engine.schedule(at(20), [&] { order += 'b'; });
  CHECK(engine.run() == 3);
  CHECK(order == "abc");
  CHECK(engine.now() == at(30));
}

TEST_CASE("events at equal times run in the order they were scheduled") {
  EventEngine engine;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) engine.schedule(at(7), [&order, i] { order.push_back(i); });
  engine.run();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("an event scheduled for now from a callback runs after the ones already queued for now") {
  EventEngine engine;
  std::string order;
  engine.schedule(at(5), [&] {
    order += 'a';
    engine.schedule(engine.now(), [&] { order += 'c'; });
  });
  engine.schedule(at(5), [&] { order += 'b'; });
  engine.run();
  CHECK(order == "abc");
}

TEST_CASE("a cancelled event does not run and cancelling twice reports false") {
  EventEngine engine;
  int ran = 0;
  const auto id = engine.schedule(at(10), [&] { ++ran; });
  engine.schedule(at(20), [&] { ++ran; });
  CHECK(engine.cancel(id));
  CHECK_FALSE(engine.cancel(id));
  CHECK(engine.run() == 1);
  CHECK(ran == 1);
}

TEST_CASE("run_until runs events up to the limit inclusive and advances the clock to it") {
  EventEngine engine;
  std::string order;
  engine.schedule(at(10), [&] { order += 'a'; });
  engine.schedule(at(20), [&] { order += 'b'; });
  engine.schedule(at(21), [&] { order += 'c'; });
  CHECK(engine.run_until(at(20)) == 2);
  CHECK(order == "ab");
  CHECK(engine.now() == at(20));
  CHECK(engine.pending() == 1);
  CHECK(engine.run_until(at(15)) == 0);  // the past: nothing to do, clock stays
  CHECK(engine.now() == at(20));
  engine.run();
  CHECK(order == "abc");
}

TEST_CASE("scheduling in the past is refused") {
  EventEngine engine;
  engine.schedule(at(10), [] {});
  engine.run();
  CHECK_THROWS_AS(engine.schedule(at(9), [] {}), std::logic_error);
}

TEST_CASE("schedule_after is relative to now") {
  EventEngine engine;
  SimTime seen;
  engine.schedule(at(100), [&] {
    engine.schedule_after(SimDuration::from_ns(25), [&] { seen = engine.now(); });
  });
  engine.run();
  CHECK(seen == at(125));
}

TEST_CASE("durations and times keep their units apart") {
  const auto d = SimDuration::from_ns(1'500'000);
  CHECK(d.us() == doctest::Approx(1500.0));
  CHECK(d.ms() == doctest::Approx(1.5));
  CHECK((at(10) + d) - at(10) == d);
  CHECK(SimDuration::from_ns_rounded(2.5).ns() == 3);
  CHECK(SimDuration::from_ns_rounded(2.4).ns() == 2);
}
