#pragma once
// How a run writes the proofs a proving policy (`optimal`) gives of its first
// placement (policies/placement_policy.h, LayerProof): in summary.json and as
// one line under the printed tables. Layer studies and serving runs share it.
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/placement_policy.h"

namespace vibesim {

// {"proven_gap": [per layer], "stopped_at_limit": [layers]}.
nlohmann::ordered_json proofs_json(const std::vector<LayerProof>& proofs);

// "<policy>: placement proven within X % of the best packing on every layer
// [(the search stopped at its time limit on layers ...)]".
void print_proof_line(std::ostream& out, const std::string& policy,
                      const std::vector<LayerProof>& proofs);

}  // namespace vibesim
