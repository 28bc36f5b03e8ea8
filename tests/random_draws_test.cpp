#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "base/derived_seed.h"
#include "base/normal_draws.h"
#include "base/random_engine.h"

namespace vibesim {
namespace {

// An engine that hands out one given word, for generate_canonical.
struct OneWord {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type word;
  result_type operator()() const { return word; }
};

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST_CASE("RandomEngine gives std::mt19937_64's words from the same seed") {
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{5489}, ~std::uint64_t{0}}) {
    std::mt19937_64 reference(seed);
    RandomEngine engine(seed);
    int mismatches = 0;
    for (int i = 0; i < 100'000; ++i)
      if (engine() != reference()) ++mismatches;
    CHECK_MESSAGE(mismatches == 0, "seed " << seed);
  }
  RandomEngine standard_check;  // the standard's check: the 10,000th word from the default seed
  standard_check.discard(9'999);
  CHECK(standard_check() == 9981545732273789042ULL);
}

TEST_CASE("canonical_double maps a word as std::generate_canonical<double, 53> does") {
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  // Exact, round-to-even boundaries on either side of 2^53 and 2^63, and the
  // words that round up to 2^64 (replaced by the largest double below 1).
  std::vector<std::uint64_t> words = {0,
                                      1,
                                      (1ULL << 53) - 1,
                                      (1ULL << 53) + 1,
                                      (1ULL << 53) + 3,
                                      (1ULL << 63) - 1,
                                      1ULL << 63,
                                      (1ULL << 63) + 1024,
                                      (1ULL << 63) + 1025,
                                      (1ULL << 63) + 3072,
                                      top - 1023,
                                      top - 1024,
                                      top - 1025,
                                      top};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10'000; ++i) words.push_back(rng() >> (i % 64));
  for (const auto w : words) {
    OneWord engine{w};
    const double expected = std::generate_canonical<double, 53>(engine);
    CHECK_MESSAGE(same_bits(canonical_double(w), expected), "word " << w);
  }
  CHECK(canonical_double(top) < 1.0);
}

TEST_CASE("NormalDraws gives std::normal_distribution's draws, bit for bit") {
  for (const std::uint64_t seed :
       {std::uint64_t{1}, std::uint64_t{3}, std::uint64_t{12345},
        derive_seed(7, {static_cast<std::uint64_t>(RandomStream::kKernelJitter)})}) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    NormalDraws draws(seed);
    int mismatches = 0;
    for (int i = 0; i < 200'000; ++i)
      if (!same_bits(draws.next(), normal(engine))) ++mismatches;
    CHECK_MESSAGE(mismatches == 0, "seed " << seed);
  }
}

}  // namespace
}  // namespace vibesim
