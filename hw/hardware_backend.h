#pragma once
// The real GPUs `vibesim hw` runs on, behind an interface so that everything
// above it (calibration, replay, validation) is tested without a GPU: tests
// give it modelled GPUs, `vibesim hw` the CUDA backend (hw/cuda/).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/expert_shape.h"
#include "sim/layer_executor.h"

namespace vibesim {

// No GPU can run: built without CUDA, no driver, or no device visible.
// `vibesim hw` exits with status 3 and this one-line message.
class NoDevice : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeviceInfo {
  std::string name;
  std::string compute_capability;  // "9.0"
  std::string pci_bus_id;
  int driver_version = 0;  // as cudaDriverGetVersion reports it (13000 = 13.0)
  std::uint64_t free_bytes = 0;
  std::uint64_t total_bytes = 0;
};

// What the device reports of itself (NVML); NaN where unavailable.
struct DeviceTelemetry {
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  double sm_clock_mhz = kUnknown;
  double power_w = kUnknown;
  double temperature_c = kUnknown;
};

class HardwareBackend {
 public:
  virtual ~HardwareBackend() = default;
  virtual std::vector<DeviceInfo> devices() = 0;
  virtual DeviceTelemetry telemetry(int device) = 0;
  // An executor for `num_virtual_gpus` GPUs hosting `slots_per_gpu` experts
  // each, allocated by `plan`. Virtual GPU v runs on device
  // device_of_virtual_gpu(v, devices): devices run concurrently; the virtual
  // GPUs sharing one device run one after another, each timed on its own.
  virtual std::unique_ptr<LayerExecutor> make_executor(const DeviceMemoryPlan& plan,
                                                       int num_virtual_gpus, int slots_per_gpu) = 0;
};

// The CUDA backend; throws NoDevice naming the reason when no GPU is usable.
std::unique_ptr<HardwareBackend> open_cuda_backend();

// The least free memory of any of `devices` (at least one): what a plan may use
// on each, since every device holds the same experts' buffers.
inline std::uint64_t least_free_bytes(const std::vector<DeviceInfo>& devices) {
  std::uint64_t out = devices.front().free_bytes;
  for (const auto& d : devices) out = std::min(out, d.free_bytes);
  return out;
}

// Round-robin: virtual GPU v on device v % num_devices.
inline int device_of_virtual_gpu(int virtual_gpu, int num_devices) {
  return virtual_gpu % num_devices;
}

}  // namespace vibesim
