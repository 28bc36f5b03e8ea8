#include "models/moe_model.h"

#include <fmt/format.h>

#include "io/config_object.h"

namespace vibesim {

double bytes_per_element(DataType t) {
  return t == DataType::kFp8 ? 1.0 : 2.0;
}
std::string to_string(DataType t) {
  return t == DataType::kFp8 ? "fp8" : "bf16";
}

std::int64_t MoeModel::attention_weight_params() const {
  const auto d = hidden_size;
  const auto& a = attention;
  if (a.kind == "mla") {
    const auto qk_head = a.qk_nope_head_dim + a.qk_rope_head_dim;
    return d * a.q_lora_rank + a.q_lora_rank * a.num_heads * qk_head +  // q down, q up
           d * (a.kv_lora_rank + a.qk_rope_head_dim) +                  // kv down (+ rope key)
           a.kv_lora_rank * a.num_heads * (a.qk_nope_head_dim + a.v_head_dim) +  // kv up
           a.num_heads * a.v_head_dim * d;                                       // output
  }
  return d * a.num_heads * a.head_dim + 2 * d * a.num_kv_heads * a.head_dim +
         a.num_heads * a.head_dim * d;
}

double MoeModel::kv_cache_bytes_per_token() const {
  const auto& a = attention;
  if (a.kind == "mla") return 2.0 * static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim);
  return 2.0 * 2.0 * static_cast<double>(a.num_kv_heads * a.head_dim);
}

double MoeModel::attention_flops_per_context_token() const {
  const auto& a = attention;
  // 2 FLOPs per multiply-add for q.k and for p.v, per head.
  if (a.kind == "mla")  // absorbed form: scores and values in the latent space
    return 2.0 * static_cast<double>(a.num_heads) *
           static_cast<double>(2 * a.kv_lora_rank + a.qk_rope_head_dim);
  return 2.0 * 2.0 * static_cast<double>(a.num_heads * a.head_dim);
}

double MoeModel::total_weight_bytes() const {
  const double moe = static_cast<double>(num_moe_layers()) *
                     static_cast<double>(routed_experts + shared_experts) * expert_weight_bytes();
  const double dense = static_cast<double>(num_layers - num_moe_layers()) * 3.0 *
                       static_cast<double>(hidden_size) *
                       static_cast<double>(dense_intermediate_size) * bytes_per_element(dtype);
  const double attn = static_cast<double>(num_layers) *
                      static_cast<double>(attention_weight_params()) * bytes_per_element(dtype);
  return moe + dense + attn;
}

nlohmann::ordered_json MoeModel::to_json() const {
  nlohmann::ordered_json attn = {{"kind", attention.kind}, {"num_heads", attention.num_heads}};
  if (attention.kind == "mla") {
    attn["q_lora_rank"] = attention.q_lora_rank;
    attn["kv_lora_rank"] = attention.kv_lora_rank;
    attn["qk_nope_head_dim"] = attention.qk_nope_head_dim;
    attn["qk_rope_head_dim"] = attention.qk_rope_head_dim;
    attn["v_head_dim"] = attention.v_head_dim;
  } else {
    attn["num_kv_heads"] = attention.num_kv_heads;
    attn["head_dim"] = attention.head_dim;
  }
  return {{"name", name},
          {"description", description},
          {"source", source},
          {"num_layers", num_layers},
          {"first_moe_layer", moe_layers.empty() ? num_layers : moe_layers.front()},
          {"routed_experts", routed_experts},
          {"shared_experts", shared_experts},
          {"top_k", top_k},
          {"expert_groups", expert_groups},
          {"hidden_size", hidden_size},
          {"expert_intermediate_size", expert_intermediate_size},
          {"dense_intermediate_size", dense_intermediate_size},
          {"attention", attn},
          {"dtype", to_string(dtype)}};
}

MoeModel parse_moe_model(ConfigObject& c) {
  MoeModel m;
  m.name = c.string("name");
  m.description = c.string_or("description", "");
  m.source = c.string_or("source", "");
  m.num_layers = c.integer("num_layers", 1, 10'000);
  // MoE layers: every layer from `first_moe_layer` on (DeepSeek keeps its first 3 dense).
  const auto first_moe = c.integer_or("first_moe_layer", 0, 0, m.num_layers - 1);
  for (auto l = first_moe; l < m.num_layers; ++l) m.moe_layers.push_back(l);
  m.routed_experts = c.integer("routed_experts", 1, 1 << 16);
  m.shared_experts = c.integer_or("shared_experts", 0, 0, 64);
  m.top_k = c.integer("top_k", 1, m.routed_experts);
  m.expert_groups = c.integer_or("expert_groups", 1, 1, m.routed_experts);
  if (m.routed_experts % m.expert_groups != 0)
    throw c.error("expert_groups", fmt::format("{} does not divide routed_experts = {}",
                                               m.expert_groups, m.routed_experts));
  m.hidden_size = c.integer("hidden_size", 1, 1 << 20);
  m.expert_intermediate_size = c.integer("expert_intermediate_size", 1, 1 << 20);
  m.dense_intermediate_size = c.integer_or("dense_intermediate_size", 0, 0, 1 << 22);
  m.dtype = c.choice("dtype", {"bf16", "fp8"}) == "fp8" ? DataType::kFp8 : DataType::kBf16;

  auto a = c.object("attention");
  m.attention.kind = a.choice("kind", {"gqa", "mla"});
  m.attention.num_heads = a.integer("num_heads", 1, 4096);
  if (m.attention.kind == "mla") {
    m.attention.q_lora_rank = a.integer("q_lora_rank", 1, 1 << 20);
    m.attention.kv_lora_rank = a.integer("kv_lora_rank", 1, 1 << 20);
    m.attention.qk_nope_head_dim = a.integer("qk_nope_head_dim", 1, 4096);
    m.attention.qk_rope_head_dim = a.integer("qk_rope_head_dim", 0, 4096);
    m.attention.v_head_dim = a.integer("v_head_dim", 1, 4096);
  } else {
    m.attention.num_kv_heads = a.integer("num_kv_heads", 1, m.attention.num_heads);
    m.attention.head_dim = a.integer("head_dim", 1, 4096);
  }
  a.finish();
  c.finish();
  return m;
}

MoeModel load_moe_model(const std::filesystem::path& path) {
  const auto json = read_json_file(path);
  ConfigObject c(json, path.string());
  return parse_moe_model(c);
}

}  // namespace vibesim
