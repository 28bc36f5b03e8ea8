#include "hw/cuda/nvml_telemetry.h"

#include <dlfcn.h>

namespace vibesim::cuda {

namespace {

// From nvml.h (not shipped with the toolkit here): the stable C API.
constexpr int kNvmlSuccess = 0;
constexpr int kNvmlClockSm = 1;
constexpr int kNvmlTemperatureGpu = 0;

template <class Function>
void resolve(void* library, const char* name, Function& out) {
  out = reinterpret_cast<Function>(dlsym(library, name));
}

}  // namespace

NvmlTelemetry::NvmlTelemetry() {
  library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library_ == nullptr) return;
  int (*init)() = nullptr;
  resolve(library_, "nvmlInit_v2", init);
  resolve(library_, "nvmlShutdown", shutdown_);
  resolve(library_, "nvmlDeviceGetHandleByPciBusId_v2", handle_by_pci_bus_id_);
  resolve(library_, "nvmlDeviceGetClockInfo", clock_info_);
  resolve(library_, "nvmlDeviceGetPowerUsage", power_usage_);
  resolve(library_, "nvmlDeviceGetTemperature", temperature_);
  if (init == nullptr || init() != kNvmlSuccess || handle_by_pci_bus_id_ == nullptr) {
    dlclose(library_);
    library_ = nullptr;
    shutdown_ = nullptr;
  }
}

NvmlTelemetry::~NvmlTelemetry() {
  if (library_ == nullptr) return;
  if (shutdown_ != nullptr) shutdown_();
  dlclose(library_);
}

DeviceTelemetry NvmlTelemetry::read(const std::string& pci_bus_id) const {
  DeviceTelemetry t;
  Device device = nullptr;
  if (library_ == nullptr || handle_by_pci_bus_id_(pci_bus_id.c_str(), &device) != kNvmlSuccess)
    return t;
  unsigned int value = 0;
  if (clock_info_ != nullptr && clock_info_(device, kNvmlClockSm, &value) == kNvmlSuccess)
    t.sm_clock_mhz = value;
  if (power_usage_ != nullptr && power_usage_(device, &value) == kNvmlSuccess)
    t.power_w = value * 1e-3;  // NVML reports milliwatts
  if (temperature_ != nullptr && temperature_(device, kNvmlTemperatureGpu, &value) == kNvmlSuccess)
    t.temperature_c = value;
  return t;
}

}  // namespace vibesim::cuda
