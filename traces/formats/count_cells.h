#pragma once
// Collects count cells (step id, layer id, expert, count) read from a sparse
// format and lays them out as a dense CountTrace: steps and layers in
// ascending id order, missing cells 0, repeated cells summed.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "traces/routing_trace.h"

namespace vibesim {

// A non-negative integer CSV field; InputError "where: column 'c' is not ..." else.
std::int64_t parse_count_field(std::string_view text, const std::string& where, const char* column);

class CountCells {
 public:
  explicit CountCells(int expert_limit) : expert_limit_(expert_limit) {}
  // `where` names the record in errors ("file:line"). InputError for an id
  // out of range or a cell that would exceed int32.
  void add(std::int64_t step, std::int64_t layer, std::int64_t expert, std::int64_t count,
           const std::string& where);
  // InputError naming `path` if there are no cells or the dense layout would
  // exceed kTraceCountCellLimit.
  [[nodiscard]] CountTrace to_trace(const std::filesystem::path& path) const;

 private:
  int expert_limit_;
  int experts_seen_ = 0;
  std::map<std::int64_t, std::map<std::int64_t, std::vector<std::int32_t>>> by_step_;
};

}  // namespace vibesim
