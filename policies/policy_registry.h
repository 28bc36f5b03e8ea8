#pragma once
// The one list of placement policies: name, one-line description, factory.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policies/placement_policy.h"

namespace vibesim {

struct PolicyEntry {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<PlacementPolicy>()> make;
};

class PolicyRegistry {
 public:
  // Every policy built into vibesim, in the order `vibesim list` shows them.
  static PolicyRegistry builtin();

  [[nodiscard]] const std::vector<PolicyEntry>& entries() const { return entries_; }
  [[nodiscard]] bool contains(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> names() const;
  // Throws InputError "unknown policy 'x'; valid values are: ..." for an unknown name.
  [[nodiscard]] std::unique_ptr<PlacementPolicy> make(const std::string& name) const;

 private:
  std::vector<PolicyEntry> entries_;
};

}  // namespace vibesim
