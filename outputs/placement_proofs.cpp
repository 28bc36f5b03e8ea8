#include "outputs/placement_proofs.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

namespace vibesim {

nlohmann::ordered_json proofs_json(const std::vector<LayerProof>& proofs) {
  const auto s = summarize_proofs(proofs);
  return {{"proven_gap", s.gaps}, {"stopped_at_limit", s.stopped_layers}};
}

void print_proof_line(std::ostream& out, const std::string& policy,
                      const std::vector<LayerProof>& proofs) {
  const auto s = summarize_proofs(proofs);
  fmt::print(out,
             "{}: placement proven within {:.3g} % of the best packing on every layer (the widest "
             "layer's gap{})\n",
             policy, 100 * s.widest_gap,
             s.stopped_layers.empty()
                 ? std::string{}
                 : fmt::format("; the search stopped at its time limit on layers {}",
                               fmt::join(s.stopped_layers, ", ")));
}

}  // namespace vibesim
