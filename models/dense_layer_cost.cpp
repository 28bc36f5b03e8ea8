#include "models/dense_layer_cost.h"

#include <algorithm>

namespace vibesim {

DenseLayerWork dense_layer_work(const MoeModel& m, const BatchShape& b, bool moe_layer,
                                bool tensor_parallel, int num_gpus) {
  const double g = static_cast<double>(num_gpus);
  const double bpe = bytes_per_element(m.dtype);
  const double attn_params = static_cast<double>(m.attention_weight_params());
  DenseLayerWork w;
  w.attention_flops =
      (2.0 * attn_params * b.tokens + m.attention_flops_per_context_token() * b.context_tokens) / g;
  w.attention_bytes = attn_params * bpe * (tensor_parallel ? 1.0 / g : 1.0) +
                      m.kv_cache_bytes_per_token() * b.kv_read_tokens / g;
  if (moe_layer) {
    w.ffn_flops = m.shared_expert_flops_per_token() * b.tokens / g;
    w.ffn_bytes = static_cast<double>(m.shared_experts) * m.expert_weight_bytes();
  } else {
    w.ffn_flops = m.dense_ffn_flops_per_token() * b.tokens / g;
    w.ffn_bytes = 3.0 * static_cast<double>(m.hidden_size) *
                  static_cast<double>(m.dense_intermediate_size) * bpe /
                  (tensor_parallel ? g : 1.0);
  }
  return w;
}

double all_reduce_ns(const InterconnectSpec& ic, double bytes, int num_gpus) {
  if (num_gpus <= 1) return 0;
  const double g = static_cast<double>(num_gpus);
  const double link_bytes_per_ns =
      ic.link_bandwidth_bytes_per_s * ic.collective_bandwidth_efficiency * 1e-9;
  const double latency_ns = ic.link_latency_us * 1e3;
  const double transfer_ns =
      ic.intra_node == "mesh"
          ? 2.0 * (bytes / g / link_bytes_per_ns + latency_ns)
          : 2.0 * (g - 1) / g * bytes / link_bytes_per_ns + 2.0 * (g - 1) * latency_ns;
  return std::max(transfer_ns, ic.collective_latency_floor_us * 1e3);
}

}  // namespace vibesim
