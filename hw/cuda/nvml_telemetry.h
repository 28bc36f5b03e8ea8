#pragma once
// Clock, power and temperature of a device through NVML, loaded at run time
// (dlopen libnvidia-ml.so.1, which the driver installs) so that vibesim
// starts on machines without a driver. Only reads: nothing is ever set.
#include <string>

#include "hw/hardware_backend.h"

namespace vibesim::cuda {

class NvmlTelemetry {
 public:
  NvmlTelemetry();  // without NVML every reading is unknown (NaN)
  ~NvmlTelemetry();
  NvmlTelemetry(const NvmlTelemetry&) = delete;
  NvmlTelemetry& operator=(const NvmlTelemetry&) = delete;

  // `pci_bus_id` as cudaDeviceGetPCIBusId writes it.
  [[nodiscard]] DeviceTelemetry read(const std::string& pci_bus_id) const;

 private:
  using Device = void*;  // nvmlDevice_t
  void* library_ = nullptr;
  int (*shutdown_)() = nullptr;
  int (*handle_by_pci_bus_id_)(const char*, Device*) = nullptr;
  int (*clock_info_)(Device, int, unsigned int*) = nullptr;
  int (*power_usage_)(Device, unsigned int*) = nullptr;
  int (*temperature_)(Device, int, unsigned int*) = nullptr;
};

}  // namespace vibesim::cuda
