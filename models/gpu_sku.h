#pragma once
// A GPU product (SKU) from its public spec sheet, plus the few model constants
// the kernel, power and interconnect models need.
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "models/moe_model.h"

namespace vibesim {

class ConfigObject;

struct PowerModelSpec {
  // P = static_w * leakage_g + activity * dynamic_full_w * clock_fraction * (V(f)/V_max)^2,
  // V(f) linear between the two voltages across [min_clock, max_clock], plus the GPU's offset.
  double static_w = 0;
  double dynamic_full_w = 0;
  double voltage_at_min_clock_v = 0;
  double voltage_at_max_clock_v = 0;
  double activity_memory_bound = 0;   // switching activity of a purely memory-bound kernel
  double activity_compute_bound = 1;  // ... of a kernel that keeps the math units busy
  // The power limit holds power averaged over this window (an exponential
  // average, in seconds), not instantaneous power: a compute kernel runs at
  // full clock until the average reaches the cap, then at the clock that
  // holds it there. Each kernel starts with the average at the power of a
  // memory-bound kernel (the communication and weight streaming between
  // compute kernels). 0: instantaneous, every kernel at its capped clock.
  double limit_window_s = 0;
};

// Kernel classes run at their own fraction of peak: a grouped FP8 MoE GEMM,
// attention and dense GEMMs differ widely. Each class's efficiency defaults to
// `compute_efficiency` (the single efficiency of older SKU files).
enum class KernelClass { kMoe, kAttention, kDense };

struct KernelModelSpec {
  double compute_efficiency = 0;            // fraction of peak FLOP/s, for any class not given
  double moe_compute_efficiency = 0;        // the fused expert kernel, at full tile occupancy
  double attention_compute_efficiency = 0;  // attention (projections and score/value products)
  double dense_compute_efficiency = 0;      // dense FFN and shared experts
  // Tile occupancy: with m tokens per active expert the MoE kernel reaches
  // moe_compute_efficiency x m / (m + moe_half_efficiency_tokens) — few tokens
  // per expert leave compute units idle. 0: no such loss.
  double moe_half_efficiency_tokens = 0;
  double memory_efficiency = 0;  // fraction of HBM bandwidth a kernel reaches
  std::int64_t tile_tokens = 0;  // rows per GEMM tile: each expert's tokens are padded to it
  double launch_overhead_us = 0;
};

struct InterconnectSpec {
  std::string intra_node = "mesh";        // "mesh": a link per GPU pair; "switch": one port per GPU
  double link_bandwidth_bytes_per_s = 0;  // per direction, per link (mesh) or port (switch)
  double link_latency_us = 0;
  double nic_bandwidth_bytes_per_s = 0;  // per GPU, per direction, between nodes
  double nic_latency_us = 0;
  // Collectives (all-reduce) reach this fraction of the links' bandwidth and
  // take at least `collective_latency_floor_us` (software and synchronisation
  // cost). Defaults 1 and 0: the nominal bandwidth, no floor.
  double collective_bandwidth_efficiency = 1;
  double collective_latency_floor_us = 0;
};

struct GpuSku {
  std::string name;
  std::string description;
  std::string source;
  double peak_bf16_flops_per_s = 0;  // dense
  double peak_fp8_flops_per_s = 0;   // dense
  double hbm_bandwidth_bytes_per_s = 0;
  double hbm_capacity_bytes = 0;
  double tdp_w = 0;
  double max_clock_mhz = 0;
  double min_clock_mhz = 0;
  PowerModelSpec power;
  KernelModelSpec kernel;
  InterconnectSpec interconnect;
  std::map<std::string, nlohmann::json> profiles;  // variability profiles by name (parsed on use)

  [[nodiscard]] double peak_flops_per_s(DataType t) const {
    return t == DataType::kFp8 ? peak_fp8_flops_per_s : peak_bf16_flops_per_s;
  }
  [[nodiscard]] double compute_efficiency(KernelClass k) const {
    switch (k) {
      case KernelClass::kMoe:
        return kernel.moe_compute_efficiency;
      case KernelClass::kAttention:
        return kernel.attention_compute_efficiency;
      case KernelClass::kDense:
        break;
    }
    return kernel.dense_compute_efficiency;
  }
  // The config parse_gpu_sku reads back to this SKU (profiles as read).
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

GpuSku parse_gpu_sku(ConfigObject& config);
GpuSku load_gpu_sku(const std::filesystem::path& path);

}  // namespace vibesim
