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
  bool fills_redundant_slots = false;  // else it places E/G experts per GPU, no replicas
  bool in_default_study = true;  // run when an experiment names no policies (not the yardstick)
  std::string unavailable;       // why this build cannot run it; empty when it can
};

class PolicyRegistry {
 public:
  // Every policy built into vibesim, in the order `vibesim list` shows them.
  static PolicyRegistry builtin();

  [[nodiscard]] const std::vector<PolicyEntry>& entries() const { return entries_; }
  [[nodiscard]] bool contains(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> names() const;
  // The policies an experiment runs when it names none.
  [[nodiscard]] std::vector<std::string> default_study_names() const;
  // The entry called `name`; it must exist (see contains()).
  [[nodiscard]] const PolicyEntry& entry(const std::string& name) const;
  // Throws InputError "unknown policy 'x'; valid values are: ..." for an unknown
  // name, and InputError with the reason for a policy this build cannot run.
  [[nodiscard]] std::unique_ptr<PlacementPolicy> make(const std::string& name) const;

 private:
  std::vector<PolicyEntry> entries_;
};

}  // namespace vibesim
