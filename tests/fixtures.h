#pragma once
// Small, exact fixtures shared by the tests: a toy MoE model and a GPU SKU
// whose numbers make hand computation easy.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "sim/experiment.h"
#include "tools/cli.h"

namespace vibesim::testing {

// The shipped configs and the measured data, as the program finds them.
inline std::filesystem::path config_dir() {
  return ConfigLocations::from_environment().config_dir;
}
inline std::filesystem::path data_dir() {
  return ConfigLocations::from_environment().data_dir;
}

// 4 experts of d=1000, d_ff=500, bf16: 3e6 FLOPs and 3e6 bytes per expert-token / expert.
inline MoeModel toy_model() {
  MoeModel m;
  m.name = "toy";
  m.num_layers = 2;
  m.moe_layers = {0, 1};
  m.routed_experts = 4;
  m.top_k = 2;
  m.hidden_size = 1000;
  m.expert_intermediate_size = 500;
  m.attention = {"gqa", 8, 8, 125};
  m.dtype = DataType::kBf16;
  return m;
}

// 1e15 FLOP/s, 1e12 B/s at 100 % efficiency, tile of 1 token, no launch cost,
// and a power model whose cap binds only for compute-heavy kernels.
inline GpuSku toy_sku() {
  GpuSku s;
  s.name = "toy-gpu";
  s.peak_bf16_flops_per_s = 1e15;
  s.peak_fp8_flops_per_s = 2e15;
  s.hbm_bandwidth_bytes_per_s = 1e12;
  s.hbm_capacity_bytes = 80e9;
  s.tdp_w = 500;
  s.max_clock_mhz = 2000;
  s.min_clock_mhz = 500;
  s.power = {100, 600, 0.7, 1.0, 0.2, 1.0};
  s.kernel.compute_efficiency = s.kernel.moe_compute_efficiency =
      s.kernel.attention_compute_efficiency = s.kernel.dense_compute_efficiency = 1.0;
  s.kernel.memory_efficiency = 1.0;
  s.kernel.tile_tokens = 1;
  s.interconnect = {"mesh", 100e9, 1.0, 25e9, 5.0};
  return s;
}

// A scratch folder removed at the end of the test; named by the process too, so
// two test runs on one machine (a CI clone and a working tree) never share one.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("vibesim-test-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path write(const std::string& file, const std::string& text) const {
    std::filesystem::create_directories((path / file).parent_path());  // "sub/f" makes sub
    std::ofstream(path / file) << text;
    return path / file;
  }
};

// The vibesim command line run in-process: exit status, stdout, stderr.
struct CliResult {
  int status;
  std::string out, err;
};
inline CliResult cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int status = run_cli(args, out, err);
  return {status, out.str(), err.str()};
}

// The names of what a folder holds, sorted.
inline std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vibesim::testing
