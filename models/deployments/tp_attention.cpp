// The paper's vLLM deployment: attention and dense layers tensor-parallel
// across the group (weights split G ways), with an all-reduce of the hidden
// states (bf16) after attention and after a dense layer's FFN.
#include "models/deployment.h"

namespace vibesim {

namespace {

class TpAttention final : public Deployment {
 public:
  DenseLayerWork layer_work(const MoeModel& model, const BatchShape& batch, bool moe_layer,
                            int num_gpus) const override {
    return dense_layer_work(model, batch, moe_layer, /*tensor_parallel=*/true, num_gpus);
  }
  double layer_collectives_ns(const MoeModel& model, const BatchShape& batch, bool moe_layer,
                              const InterconnectSpec& interconnect, int num_gpus) const override {
    const double bytes = batch.tokens * static_cast<double>(model.hidden_size) * 2.0;
    return all_reduce_ns(interconnect, bytes, num_gpus) * (moe_layer ? 1.0 : 2.0);
  }
};

}  // namespace

std::unique_ptr<const Deployment> make_tp_attention_deployment() {
  return std::make_unique<TpAttention>();
}

}  // namespace vibesim
