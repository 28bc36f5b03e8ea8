#pragma once
// What the parts of a transformer layer other than the routed experts cost:
// attention, the dense FFN of a dense layer or the shared experts of a MoE
// layer, and the tensor-parallel all-reduce. Pure functions of the model, the
// batch and the deployment; a GPU's kernel model turns the work into time.
#include <nlohmann/json.hpp>

#include "models/gpu_sku.h"
#include "models/moe_model.h"

namespace vibesim {

// One iteration's batch, as attention sees it.
struct BatchShape {
  double tokens = 0;          // query tokens (prefill chunks + one per decoding sequence)
  double context_tokens = 0;  // sum over query tokens of the context each attends to
  double kv_read_tokens = 0;  // KV-cache tokens read
};

// Work of one GPU in one layer (FLOPs and HBM bytes per kernel).
struct DenseLayerWork {
  double attention_flops = 0, attention_bytes = 0;
  double ffn_flops = 0, ffn_bytes = 0;  // dense FFN, or the shared experts of a MoE layer
};

// `tensor_parallel`: attention and the dense FFN are split across the
// `num_gpus` of the group (else each GPU holds full attention weights and
// attends for its 1/G of the tokens). Shared experts run on every GPU for
// its 1/G of the tokens either way.
DenseLayerWork dense_layer_work(const MoeModel& model, const BatchShape& batch, bool moe_layer,
                                bool tensor_parallel, int num_gpus);

// An all-reduce of `bytes` across `num_gpus` GPUs of one node. On a full
// mesh, reduce-scatter then all-gather, each GPU exchanging a 1/G shard with
// every peer over its own link at once: 2 x (bytes / G / link bandwidth +
// link latency). On a switch, a ring: 2 (G-1)/G x bytes / port bandwidth +
// 2 (G-1) latencies. Bandwidth is the links' times the interconnect's
// collective_bandwidth_efficiency, and the result is at least its
// collective_latency_floor_us. 0 for one GPU.
double all_reduce_ns(const InterconnectSpec& interconnect, double bytes, int num_gpus);

}  // namespace vibesim
