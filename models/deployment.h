#pragma once
// How a serving deployment splits the non-expert parts of a layer across the
// expert-parallel group and what it communicates for them: an interface with
// one implementation per file in models/deployments/, chosen by
// `serving.deployment` (kDeployments).
#include <memory>

#include "io/choice_table.h"
#include "models/dense_layer_cost.h"

namespace vibesim {

enum class DeploymentKind { kTpAttention, kDpAttention };
inline constexpr ChoiceTable<DeploymentKind, 2> kDeployments{{
    {"tp_attention", DeploymentKind::kTpAttention,
     "attention and dense layers tensor-parallel across the EP group, an all-reduce after each "
     "(the paper's vLLM setup); MoE layers expert-parallel"},
    {"dp_attention", DeploymentKind::kDpAttention,
     "each GPU runs attention for its share of requests with full attention weights; no "
     "all-reduce"},
}};

class Deployment {
 public:
  virtual ~Deployment() = default;
  // One GPU's attention and dense-FFN (or shared-expert) work in one layer.
  [[nodiscard]] virtual DenseLayerWork layer_work(const MoeModel& model, const BatchShape& batch,
                                                  bool moe_layer, int num_gpus) const = 0;
  // Collectives for those parts in one layer (ns), e.g. tensor-parallel all-reduces.
  [[nodiscard]] virtual double layer_collectives_ns(const MoeModel& model, const BatchShape& batch,
                                                    bool moe_layer,
                                                    const InterconnectSpec& interconnect,
                                                    int num_gpus) const = 0;
};

// Implementations (models/deployments/), and the one a kind names.
std::unique_ptr<const Deployment> make_tp_attention_deployment();
std::unique_ptr<const Deployment> make_dp_attention_deployment();
std::unique_ptr<const Deployment> make_deployment(DeploymentKind kind);

}  // namespace vibesim
