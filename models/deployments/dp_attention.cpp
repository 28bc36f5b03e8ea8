// Data-parallel attention: each GPU holds the full attention (and dense FFN)
// weights and serves its 1/G share of the tokens; nothing to all-reduce.
// (Not modelled: the imbalance of per-GPU request assignment.)
#include "models/deployment.h"

namespace vibesim {

namespace {

class DpAttention final : public Deployment {
 public:
  DenseLayerWork layer_work(const MoeModel& model, const BatchShape& batch, bool moe_layer,
                            int num_gpus) const override {
    return dense_layer_work(model, batch, moe_layer, /*tensor_parallel=*/false, num_gpus);
  }
  double layer_collectives_ns(const MoeModel&, const BatchShape&, bool, const InterconnectSpec&,
                              int) const override {
    return 0;
  }
};

}  // namespace

std::unique_ptr<const Deployment> make_dp_attention_deployment() {
  return std::make_unique<DpAttention>();
}

}  // namespace vibesim
