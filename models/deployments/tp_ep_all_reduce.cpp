// vLLM's tensor x expert parallelism inside one data-parallel rank, the
// paper's deployment: attention and dense layers tensor-parallel (weights
// split G ways) with an all-reduce of the bf16 hidden states after attention,
// so every GPU then holds every token. Each GPU runs the router itself and
// computes only its own experts' tokens; an all-reduce of the hidden states
// sums the partial MoE outputs. Neither collective depends on placement, and
// the MoE all-reduce cannot finish before the slowest GPU's kernel: that wait
// is the layer's barrier.
#include "models/deployment.h"

namespace vibesim {

namespace {

class TpEpAllReduce final : public Deployment {
 public:
  MoeExchange moe_exchange() const override { return MoeExchange::kAllReduce; }
  DenseLayerWork layer_work(const MoeModel& model, const BatchShape& batch, bool moe_layer,
                            int num_gpus) const override {
    return dense_layer_work(model, batch, moe_layer, /*tensor_parallel=*/true, num_gpus);
  }
  // Two all-reduces per layer either way: after attention, and after the
  // dense FFN or the MoE (whose shared experts add into the same sum).
  double layer_collectives_ns(const MoeModel& model, const BatchShape& batch, bool,
                              const InterconnectSpec& interconnect, int num_gpus) const override {
    const double bytes = batch.tokens * static_cast<double>(model.hidden_size) * 2.0;
    return 2.0 * all_reduce_ns(interconnect, bytes, num_gpus);
  }
};

}  // namespace

std::unique_ptr<const Deployment> make_tp_ep_all_reduce_deployment() {
  return std::make_unique<TpEpAllReduce>();
}

}  // namespace vibesim
