#include "models/gpu_sku.h"

#include <fmt/format.h>

#include "io/config_object.h"

namespace vibesim {

nlohmann::ordered_json GpuSku::to_json() const {
  nlohmann::ordered_json named_profiles = nlohmann::ordered_json::object();
  for (const auto& [profile_name, value] : profiles) named_profiles[profile_name] = value;
  nlohmann::ordered_json out = {
      {"name", name},
      {"description", description},
      {"source", source},
      {"peak_dense_flops_per_s", {{"bf16", peak_bf16_flops_per_s}, {"fp8", peak_fp8_flops_per_s}}},
      {"hbm_bandwidth_bytes_per_s", hbm_bandwidth_bytes_per_s},
      {"hbm_capacity_bytes", hbm_capacity_bytes},
      {"tdp_w", tdp_w},
      {"max_clock_mhz", max_clock_mhz},
      {"min_clock_mhz", min_clock_mhz},
      {"power",
       {{"static_w", power.static_w},
        {"dynamic_full_w", power.dynamic_full_w},
        {"voltage_at_min_clock_v", power.voltage_at_min_clock_v},
        {"voltage_at_max_clock_v", power.voltage_at_max_clock_v},
        {"activity_memory_bound", power.activity_memory_bound},
        {"activity_compute_bound", power.activity_compute_bound}}},
      {"kernel",
       {{"compute_efficiency", kernel.compute_efficiency},
        {"moe_compute_efficiency", kernel.moe_compute_efficiency},
        {"attention_compute_efficiency", kernel.attention_compute_efficiency},
        {"dense_compute_efficiency", kernel.dense_compute_efficiency},
        {"moe_half_efficiency_tokens", kernel.moe_half_efficiency_tokens},
        {"memory_efficiency", kernel.memory_efficiency},
        {"tile_tokens", kernel.tile_tokens},
        {"launch_overhead_us", kernel.launch_overhead_us}}},
      {"interconnect",
       {{"intra_node", interconnect.intra_node},
        {"link_bandwidth_bytes_per_s", interconnect.link_bandwidth_bytes_per_s},
        {"link_latency_us", interconnect.link_latency_us},
        {"nic_bandwidth_bytes_per_s", interconnect.nic_bandwidth_bytes_per_s},
        {"nic_latency_us", interconnect.nic_latency_us},
        {"collective_bandwidth_efficiency", interconnect.collective_bandwidth_efficiency},
        {"collective_latency_floor_us", interconnect.collective_latency_floor_us}}},
      {"profiles", named_profiles}};
  // Written only when set, so SKUs without it resolve to the same bytes as before.
  if (power.limit_window_s > 0) out["power"]["limit_window_s"] = power.limit_window_s;
  return out;
}

GpuSku parse_gpu_sku(ConfigObject& c) {
  GpuSku s;
  s.name = c.string("name");
  s.description = c.string_or("description", "");
  s.source = c.string_or("source", "");
  auto flops = c.object("peak_dense_flops_per_s");
  s.peak_bf16_flops_per_s = flops.number("bf16", 1e9, 1e18);
  s.peak_fp8_flops_per_s = flops.number("fp8", 1e9, 1e18);
  flops.finish();
  s.hbm_bandwidth_bytes_per_s = c.number("hbm_bandwidth_bytes_per_s", 1e9, 1e15);
  s.hbm_capacity_bytes = c.number("hbm_capacity_bytes", 1e9, 1e14);
  s.tdp_w = c.number("tdp_w", 1, 10'000);
  s.max_clock_mhz = c.number("max_clock_mhz", 1, 10'000);
  s.min_clock_mhz = c.number("min_clock_mhz", 1, s.max_clock_mhz);

  auto p = c.object("power");
  s.power.static_w = p.number("static_w", 0, s.tdp_w);
  s.power.dynamic_full_w = p.number("dynamic_full_w", 1, 100'000);
  s.power.voltage_at_min_clock_v = p.number("voltage_at_min_clock_v", 0.1, 3);
  s.power.voltage_at_max_clock_v =
      p.number("voltage_at_max_clock_v", s.power.voltage_at_min_clock_v, 3);
  s.power.activity_memory_bound = p.number("activity_memory_bound", 0, 1);
  s.power.activity_compute_bound =
      p.number("activity_compute_bound", s.power.activity_memory_bound, 1);
  s.power.limit_window_s = p.number_or("limit_window_s", 0.0, 0.0, 1.0);
  p.finish();

  auto k = c.object("kernel");
  s.kernel.compute_efficiency = k.number("compute_efficiency", 0.01, 1);
  const double any = s.kernel.compute_efficiency;
  s.kernel.moe_compute_efficiency = k.number_or("moe_compute_efficiency", any, 0.001, 1);
  s.kernel.attention_compute_efficiency =
      k.number_or("attention_compute_efficiency", any, 0.001, 1);
  s.kernel.dense_compute_efficiency = k.number_or("dense_compute_efficiency", any, 0.001, 1);
  s.kernel.moe_half_efficiency_tokens = k.number_or("moe_half_efficiency_tokens", 0, 0, 1e6);
  s.kernel.memory_efficiency = k.number("memory_efficiency", 0.01, 1);
  s.kernel.tile_tokens = k.integer("tile_tokens", 1, 4096);
  if ((s.kernel.tile_tokens & (s.kernel.tile_tokens - 1)) != 0)
    throw k.error("tile_tokens", fmt::format("{} is not a power of two", s.kernel.tile_tokens));
  s.kernel.launch_overhead_us = k.number("launch_overhead_us", 0, 10'000);
  k.finish();

  auto n = c.object("interconnect");
  s.interconnect.intra_node = n.choice("intra_node", {"mesh", "switch"});
  s.interconnect.link_bandwidth_bytes_per_s = n.number("link_bandwidth_bytes_per_s", 1e6, 1e14);
  s.interconnect.link_latency_us = n.number("link_latency_us", 0, 1e6);
  s.interconnect.nic_bandwidth_bytes_per_s = n.number("nic_bandwidth_bytes_per_s", 1e6, 1e14);
  s.interconnect.nic_latency_us = n.number("nic_latency_us", 0, 1e6);
  s.interconnect.collective_bandwidth_efficiency =
      n.number_or("collective_bandwidth_efficiency", 1, 0.001, 1);
  s.interconnect.collective_latency_floor_us =
      n.number_or("collective_latency_floor_us", 0, 0, 1e6);
  n.finish();

  const auto& profiles = c.raw("profiles");
  if (!profiles.is_object() || profiles.empty() || !profiles.contains("default"))
    throw c.error("profiles",
                  "expected an object of named variability profiles, including 'default'");
  for (const auto& [name, value] : profiles.items()) s.profiles.emplace(name, value);
  c.finish();
  return s;
}

GpuSku load_gpu_sku(const std::filesystem::path& path) {
  const auto json = read_json_file(path);
  ConfigObject c(json, path.string());
  return parse_gpu_sku(c);
}

}  // namespace vibesim
