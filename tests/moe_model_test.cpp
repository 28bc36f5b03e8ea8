#include <doctest/doctest.h>

#include "fixtures.h"
#include "io/config_error.h"
#include "models/moe_model.h"

using namespace vibesim;

TEST_CASE(
    "DeepSeek-V3 has 58 MoE layers of 256 experts with FLOPs and bytes from d=7168 and d_ff=2048") {
  const auto m = load_moe_model(testing::config_dir() / "models" / "deepseek-v3.json");
  CHECK(m.num_moe_layers() == 58);
  CHECK(m.moe_layers.front() == 3);
  CHECK(m.routed_experts == 256);
  CHECK(m.top_k == 8);
  CHECK(m.expert_flops_per_token() == 6.0 * 7168 * 2048);  // 88,080,384
  CHECK(m.expert_flops_per_token() == 88'080'384.0);
  CHECK(m.expert_weight_bytes() == 44'040'192.0);  // 3 * 7168 * 2048 * 1 byte (FP8)
  // MLA: 7168*1536 + 1536*128*192 + 7168*576 + 512*128*256 + 128*128*7168
  CHECK(m.attention_weight_params() ==
        11'010'048 + 37'748'736 + 4'128'768 + 16'777'216 + 117'440'512);
}

TEST_CASE("Mixtral-8x7B: BF16 experts of 3 x 4096 x 14336 and GQA attention 32/8 heads") {
  const auto m = load_moe_model(testing::config_dir() / "models" / "mixtral-8x7b.json");
  CHECK(m.num_moe_layers() == 32);
  CHECK(m.expert_flops_per_token() == 352'321'536.0);  // 6 * 4096 * 14336
  CHECK(m.expert_weight_bytes() == 352'321'536.0);     // 3 * 4096 * 14336 * 2 bytes
  CHECK(m.attention_weight_params() == 41'943'040);    // q, o: 4096^2; k, v: 4096 * 1024
}

TEST_CASE("Qwen3-235B-A22B and OLMoE load with their expert shapes") {
  const auto q = load_moe_model(testing::config_dir() / "models" / "qwen3-235b-a22b.json");
  CHECK(q.num_moe_layers() == 94);
  CHECK(q.routed_experts == 128);
  CHECK(q.expert_weight_bytes() == 18'874'368.0);  // 3 * 4096 * 1536, FP8
  const auto o = load_moe_model(testing::config_dir() / "models" / "olmoe-1b-7b.json");
  CHECK(o.num_moe_layers() == 16);
  CHECK(o.expert_flops_per_token() == 12'582'912.0);  // 6 * 2048 * 1024
}

TEST_CASE("a model config with an unknown key is refused naming the file and key") {
  testing::TempDir dir("model-unknown-key");
  const auto path = dir.write("m.json", R"({"name":"x","num_layers":2,"routed_experts":4,"top_k":2,
    "hidden_size":8,"expert_intermediate_size":8,"dtype":"bf16","top_kk":3,
    "attention":{"kind":"gqa","num_heads":2,"num_kv_heads":2,"head_dim":4}})");
  CHECK_THROWS_WITH_AS(load_moe_model(path), doctest::Contains("m.json: key 'top_kk': unknown key"),
                       InputError);
}

TEST_CASE("a model config with top_k above the expert count is out of range") {
  testing::TempDir dir("model-range");
  const auto path = dir.write("m.json", R"({"name":"x","num_layers":2,"routed_experts":4,"top_k":5,
    "hidden_size":8,"expert_intermediate_size":8,"dtype":"bf16",
    "attention":{"kind":"gqa","num_heads":2,"num_kv_heads":2,"head_dim":4}})");
  CHECK_THROWS_WITH_AS(load_moe_model(path),
                       doctest::Contains("key 'top_k': value 5 is out of range [1, 4]"),
                       InputError);
}
