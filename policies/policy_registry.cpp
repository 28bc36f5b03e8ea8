#include "policies/policy_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/config_error.h"

namespace vibesim {

// Factories defined in policies/impl/, one file each.
std::unique_ptr<PlacementPolicy> make_static_policy();
std::unique_ptr<PlacementPolicy> make_round_robin_policy();
std::unique_ptr<PlacementPolicy> make_eplb_policy();
std::unique_ptr<PlacementPolicy> make_vibe_policy();
std::unique_ptr<PlacementPolicy> make_latency_lpt_policy();

PolicyRegistry PolicyRegistry::builtin() {
  PolicyRegistry r;
  r.entries_ = {
      {"static", "contiguous: expert e on GPU floor(e*G/E), vLLM's default", make_static_policy},
      {"round_robin", "expert e on GPU e mod G, spreading neighbouring experts",
       make_round_robin_policy},
      {"eplb",
       "DeepSeek's EPLB: token-balanced packing (groups to nodes, replicas to GPUs), blind to GPU "
       "speed",
       make_eplb_policy},
      {"vibe",
       "ViBE (the paper's Algorithm 1): speed-proportional token targets from profiled f_g, greedy",
       make_vibe_policy},
      {"latency_lpt",
       "ours: EPLB-style replicas packed by LPT on profiled f_g, then swap local search on "
       "predicted latency",
       make_latency_lpt_policy},
  };
  return r;
}

bool PolicyRegistry::contains(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return true;
  return false;
}

std::vector<std::string> PolicyRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

std::unique_ptr<PlacementPolicy> PolicyRegistry::make(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return e.make();
  throw InputError(
      fmt::format("unknown policy '{}'; valid values are: {}", name, fmt::join(names(), ", ")));
}

}  // namespace vibesim
