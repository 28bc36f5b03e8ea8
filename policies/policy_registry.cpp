#include "policies/policy_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

#include "io/config_error.h"

namespace vibesim {

// Factories defined in policies/impl/, one file each.
std::unique_ptr<PlacementPolicy> make_static_policy();
std::unique_ptr<PlacementPolicy> make_round_robin_policy();
std::unique_ptr<PlacementPolicy> make_eplb_policy();
std::unique_ptr<PlacementPolicy> make_vibe_policy();
std::unique_ptr<PlacementPolicy> make_latency_lpt_policy();
std::unique_ptr<PlacementPolicy> make_optimal_policy();
std::unique_ptr<PlacementPolicy> make_flashlb_policy();
std::unique_ptr<PlacementPolicy> make_latency_lpt_shares_policy();
std::unique_ptr<PlacementPolicy> make_latency_lpt_counts_policy();

namespace {
#ifdef VIBESIM_HAVE_CBC
constexpr const char* kOptimalUnavailable = "";
#else
constexpr const char* kOptimalUnavailable =
    "vibesim was built without COIN-OR CBC (install coinor-libcbc-dev and reconfigure)";
#endif
}  // namespace

PolicyRegistry PolicyRegistry::builtin() {
  PolicyRegistry r;
  enum Slots { kBaseSlots, kRedundantSlots };
  const auto add = [&r](std::string name, std::string description, auto make, Slots slots,
                        bool in_default_study = true, std::string unavailable = "") {
    r.entries_.push_back({std::move(name), std::move(description), make, slots == kRedundantSlots,
                          in_default_study, std::move(unavailable)});
  };
  add("static", "contiguous: expert e on GPU floor(e*G/E), vLLM's default", make_static_policy,
      kBaseSlots);
  add("round_robin", "expert e on GPU e mod G, spreading neighbouring experts",
      make_round_robin_policy, kBaseSlots);
  add("eplb",
      "DeepSeek's EPLB: token-balanced packing (groups to nodes, replicas to GPUs), blind to GPU "
      "speed",
      make_eplb_policy, kRedundantSlots);
  add("vibe",
      "ViBE (the paper's Algorithm 1): speed-proportional token targets from profiled f_g, greedy",
      make_vibe_policy, kBaseSlots);
  add("latency_lpt",
      "ours: EPLB-style replicas packed by LPT on profiled f_g, then swap local search on "
      "predicted latency",
      make_latency_lpt_policy, kRedundantSlots);
  add("latency_lpt_counts",
      "ours: latency_lpt, then per layer a search over replica counts: a replica moved from an "
      "expert with several to one on the GPU that sets the predicted latency, kept if it is lower",
      make_latency_lpt_counts_policy, kRedundantSlots, /*in_default_study=*/false);
  add("latency_lpt_shares",
      "ours: latency_lpt's layout, then each replicated expert's tokens split over its replicas "
      "by GPU speed (min-max predicted latency, exact by max-flow); needs weighted dispatch",
      make_latency_lpt_shares_policy, kRedundantSlots, /*in_default_study=*/false);
  add("flashlb",
      "vLLM's FlashLB: replica counts by tree search on load mean + 0.674 sd over recorded "
      "windows, LPT deployment on risk with covariances; blind to GPU speed",
      make_flashlb_policy, kRedundantSlots, /*in_default_study=*/false);
  add("optimal",
      "yardstick: minimum of the predicted layer latency (proven within 0.1 %) by MILP (COIN-OR "
      "CBC); small instances only (about 64 experts x 8 GPUs)",
      make_optimal_policy, kRedundantSlots, /*in_default_study=*/false, kOptimalUnavailable);
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

std::vector<std::string> PolicyRegistry::default_study_names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e.in_default_study && e.unavailable.empty()) out.push_back(e.name);
  return out;
}

const PolicyEntry& PolicyRegistry::entry(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return e;
  throw std::out_of_range("PolicyRegistry::entry: no policy " + name);
}

std::unique_ptr<PlacementPolicy> PolicyRegistry::make(const std::string& name) const {
  if (contains(name)) {
    const auto& e = entry(name);
    if (!e.unavailable.empty())
      throw InputError(fmt::format("policy '{}' is unavailable: {}", name, e.unavailable));
    return e.make();
  }
  throw InputError(
      fmt::format("unknown policy '{}'; valid values are: {}", name, fmt::join(names(), ", ")));
}

}  // namespace vibesim
