#pragma once
// How a serving deployment splits the non-expert parts of a layer across the
// expert-parallel group and what it communicates for them: an interface with
// one implementation per file in models/deployments/, chosen by
// `serving.deployment` (kDeployments).
#include <memory>

#include "io/choice_table.h"
#include "models/dense_layer_cost.h"

namespace vibesim {

enum class DeploymentKind { kTpAttention, kTpEpAllReduce, kDpAttention };
inline constexpr ChoiceTable<DeploymentKind, 3> kDeployments{{
    {"tp_attention", DeploymentKind::kTpAttention,
     "attention and dense layers tensor-parallel across the EP group, an all-reduce after each; "
     "MoE tokens dispatched to and combined from their experts' GPUs by all-to-all"},
    {"tp_ep_all_reduce", DeploymentKind::kTpEpAllReduce,
     "vLLM's TP x EP in one data-parallel rank (the paper's setup): attention and dense layers "
     "tensor-parallel; every GPU holds every token, computes its own experts' share, and an "
     "all-reduce combines the MoE output (no placement-dependent all-to-all)"},
    {"dp_attention", DeploymentKind::kDpAttention,
     "each GPU runs attention for its share of requests with full attention weights; no "
     "all-reduce"},
}};

// How a MoE layer's tokens reach their experts and come back.
enum class MoeExchange {
  kAllToAll,   // dispatch and combine flows between GPUs (sim/moe_layer_step)
  kAllReduce,  // tokens already everywhere; the combine is an all-reduce in layer_collectives_ns
};

class Deployment {
 public:
  virtual ~Deployment() = default;
  [[nodiscard]] virtual MoeExchange moe_exchange() const { return MoeExchange::kAllToAll; }
  // One GPU's attention and dense-FFN (or shared-expert) work in one layer.
  [[nodiscard]] virtual DenseLayerWork layer_work(const MoeModel& model, const BatchShape& batch,
                                                  bool moe_layer, int num_gpus) const = 0;
  // Collectives of one layer that do not depend on placement (ns), e.g.
  // tensor-parallel all-reduces; they start after the layer's barrier.
  [[nodiscard]] virtual double layer_collectives_ns(const MoeModel& model, const BatchShape& batch,
                                                    bool moe_layer,
                                                    const InterconnectSpec& interconnect,
                                                    int num_gpus) const = 0;
};

// Implementations (models/deployments/), and the one a kind names.
std::unique_ptr<const Deployment> make_tp_attention_deployment();
std::unique_ptr<const Deployment> make_tp_ep_all_reduce_deployment();
std::unique_ptr<const Deployment> make_dp_attention_deployment();
std::unique_ptr<const Deployment> make_deployment(DeploymentKind kind);

}  // namespace vibesim
