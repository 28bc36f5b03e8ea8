// The CUDA executor on a real GPU. A CTest entry of its own: it reports
// "SKIPPED" and exits 77 (CTest shows the test as skipped) when no GPU is
// usable, which is the usual case on build machines.
#include <cmath>
#include <cstdio>
#include <vector>

#include "base/statistics.h"
#include "hw/hardware_backend.h"

using namespace vibesim;

namespace {

// Median compute time of virtual GPU 0 over `runs` steps with `tokens` on each of its slots.
double median_ns(LayerExecutor& executor, int gpus, int slots, std::int32_t tokens, int runs) {
  std::vector<std::int32_t> work(static_cast<std::size_t>(gpus * slots), 0);
  for (int s = 0; s < slots; ++s) work[static_cast<std::size_t>(s)] = tokens;
  std::vector<double> ns(static_cast<std::size_t>(gpus)), samples;
  for (int r = 0; r < runs; ++r) {
    executor.run(LayerWork{gpus, slots, work}, ns);
    if (!(std::isfinite(ns[1]) && ns[1] >= 0)) return -1;  // GPU 1 ran nothing
    samples.push_back(ns[0]);
  }
  return quantile(samples, 0.5);
}

}  // namespace

int main() {
  std::unique_ptr<HardwareBackend> backend;
  try {
    backend = open_cuda_backend();
  } catch (const NoDevice& e) {
    std::printf("SKIPPED: %s\n", e.what());
    return 77;
  }
  const auto devices = backend->devices();
  std::printf("device 0: %s, %.1f GiB free\n", devices[0].name.c_str(),
              static_cast<double>(devices[0].free_bytes) / (1 << 30));
  const int gpus = 2, slots = 4;
  const auto plan = plan_device_memory({2048, 1024}, slots, 4096, devices[0].free_bytes);
  auto executor = backend->make_executor(plan, gpus, slots);
  (void)median_ns(*executor, gpus, slots, 4096, 20);  // warm-up
  const double small = median_ns(*executor, gpus, slots, 64, 9);
  const double large = median_ns(*executor, gpus, slots, 4096, 9);
  const auto t = backend->telemetry(0);
  std::printf("4 experts x 64 tokens: %.1f us; x 4096 tokens: %.1f us; SM clock %.0f MHz, %.0f W\n",
              small * 1e-3, large * 1e-3, t.sm_clock_mhz, t.power_w);
  const bool ok = small > 0 && large > small;
  std::printf("%s\n", ok ? "PASSED" : "FAILED: expected 0 < time(64 tokens) < time(4096 tokens)");
  return ok ? 0 : 1;
}
