#include "policies/heaviest_first.h"

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <boost/sort/pdqsort/pdqsort.hpp>

namespace vibesim {
namespace {

// A 64-bit integer whose ascending order is `w`'s descending order (any
// non-NaN double; -0 and +0 alike): the IEEE bits with the sign bit set for
// positives and all bits flipped for negatives ascend with the value; then
// flipped once more.
std::uint64_t descending_key(double w) {
  w += 0.0;  // -0 -> +0
  std::uint64_t bits = 0;
  std::memcpy(&bits, &w, sizeof bits);
  const std::uint64_t ascending = (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
  return ~ascending;
}

}  // namespace

std::vector<int> heaviest_first(std::span<const double> weight) {
  // One 128-bit key per item, the weight's key above the index: every key
  // differs, so any correct sort gives the one order, and comparing two is
  // branch-free, which Boost's branchless pattern-defeating quicksort turns
  // into partitions without branch mispredictions.
  __extension__ using Key = unsigned __int128;
  std::vector<Key> keys(weight.size());
  for (std::size_t i = 0; i < weight.size(); ++i) {
    assert(!std::isnan(weight[i]));
    keys[i] = (Key{descending_key(weight[i])} << 64) | Key{i};
  }
  boost::sort::pdqsort_branchless(keys.begin(), keys.end());
  std::vector<int> order(weight.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    order[i] = static_cast<int>(static_cast<std::uint64_t>(keys[i]));
  return order;
}

}  // namespace vibesim
