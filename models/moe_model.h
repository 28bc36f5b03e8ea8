#pragma once
// MoE model shapes and the per-expert costs derived from them.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vibesim {

class ConfigObject;

enum class DataType { kBf16, kFp8 };
[[nodiscard]] double bytes_per_element(DataType t);
[[nodiscard]] std::string to_string(DataType t);

struct AttentionShape {
  std::string kind;  // "gqa" (grouped-query) or "mla" (multi-head latent, DeepSeek)
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;  // gqa
  std::int64_t head_dim = 0;      // gqa
  // mla only
  std::int64_t q_lora_rank = 0, kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
};

struct MoeModel {
  std::string name;
  std::string description;
  std::string source;  // provenance, free text
  std::int64_t num_layers = 0;
  std::vector<std::int64_t> moe_layers;  // layers first_moe_layer .. num_layers-1 (0-based)
  std::int64_t routed_experts = 0;
  std::int64_t shared_experts = 0;
  std::int64_t top_k = 0;
  std::int64_t expert_groups = 1;  // DeepSeek-style node-limited routing groups (EPLB uses them)
  std::int64_t hidden_size = 0;
  std::int64_t expert_intermediate_size = 0;
  std::int64_t dense_intermediate_size = 0;  // FFN of dense (non-MoE) layers
  AttentionShape attention;
  DataType dtype = DataType::kBf16;

  [[nodiscard]] std::int64_t num_moe_layers() const {
    return static_cast<std::int64_t>(moe_layers.size());
  }
  // SwiGLU expert: gate and up (d x d_ff) and down (d_ff x d): 2 FLOPs per multiply-add.
  [[nodiscard]] double expert_flops_per_token() const {
    return 6.0 * static_cast<double>(hidden_size) * static_cast<double>(expert_intermediate_size);
  }
  [[nodiscard]] double expert_weight_bytes() const {
    return 3.0 * static_cast<double>(hidden_size) * static_cast<double>(expert_intermediate_size) *
           bytes_per_element(dtype);
  }
  // Hidden-state bytes one token carries to its expert (model dtype) and back (bf16).
  [[nodiscard]] double dispatch_bytes_per_token() const {
    return static_cast<double>(hidden_size) * bytes_per_element(dtype);
  }
  [[nodiscard]] double combine_bytes_per_token() const {
    return static_cast<double>(hidden_size) * 2.0;
  }
  // Weight parameters of one attention block's projections.
  [[nodiscard]] std::int64_t attention_weight_params() const;
  // KV-cache bytes one token keeps in one layer (bf16): MLA caches the latent
  // and the rope key; GQA a key and a value per KV head.
  [[nodiscard]] double kv_cache_bytes_per_token() const;
  // FLOPs of one query token attending to one context token (scores + values).
  [[nodiscard]] double attention_flops_per_context_token() const;
  // Shared experts' FLOPs per token (every token runs them) and their weight bytes.
  [[nodiscard]] double shared_expert_flops_per_token() const {
    return static_cast<double>(shared_experts) * expert_flops_per_token();
  }
  // Dense (non-MoE) layer FFN FLOPs per token and weight bytes.
  [[nodiscard]] double dense_ffn_flops_per_token() const {
    return 6.0 * static_cast<double>(hidden_size) * static_cast<double>(dense_intermediate_size);
  }
  // Every weight of the model, in bytes (the model's dtype): what HBM must hold.
  [[nodiscard]] double total_weight_bytes() const;

  // The config parse_moe_model reads back to this model.
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

// Reads a model config; `source` names it in errors. Unknown keys are errors.
MoeModel parse_moe_model(ConfigObject& config);
MoeModel load_moe_model(const std::filesystem::path& path);

}  // namespace vibesim
