#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "base/random_engine.h"
#include "policies/heaviest_first.h"

namespace vibesim {
namespace {

// The order a stable sort by descending weight gives: what the policies used
// before, and what the sort must reproduce exactly.
std::vector<int> stable_descending(const std::vector<double>& w) {
  std::vector<int> order(w.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return w[static_cast<std::size_t>(a)] > w[static_cast<std::size_t>(b)];
  });
  return order;
}

TEST_CASE("heaviest_first: descending weight, the lower index first on ties") {
  CHECK(heaviest_first(std::vector<double>{}).empty());
  CHECK(heaviest_first(std::vector<double>{3, 5, 3, 9, 0}) == std::vector<int>{3, 1, 0, 2, 4});
  // -0 and +0 are one weight; negatives and infinities in their places.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(heaviest_first(std::vector<double>{-0.0, 0.0, -1.5, inf, -inf, 1e-300, -1e-300}) ==
        std::vector<int>{3, 5, 0, 1, 6, 2, 4});
}

TEST_CASE("heaviest_first matches a stable descending sort on drawn loads") {
  RandomEngine rng(11);
  for (int instance = 0; instance < 300; ++instance) {
    const auto n = static_cast<std::size_t>(rng() % 600);
    std::vector<double> w(n);
    for (auto& x : w) {
      // Counts with many ties, fractional loads, and the odd negative.
      switch (rng() % 3) {
        case 0:
          x = static_cast<double>(rng() % 20);
          break;
        case 1:
          x = std::uniform_real_distribution<double>(0, 1e6)(rng);
          break;
        default:
          x = std::uniform_real_distribution<double>(-5, 5)(rng);
          break;
      }
    }
    CAPTURE(instance);
    REQUIRE(heaviest_first(w) == stable_descending(w));
  }
}

}  // namespace
}  // namespace vibesim
