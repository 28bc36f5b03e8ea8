// The CUDA backend of `vibesim hw`: each hosted expert's SwiGLU FFN as two
// cuBLAS BF16 GEMMs (FP32 accumulation) and a SwiGLU kernel, on one stream
// per device driven by one host thread per device, timed with CUDA events.
// cuBLAS is loaded at run time (dlopen) when an executor is made: linked, its
// half-gigabyte libraries would load into every vibesim process.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "hw/cuda/device_kernels.h"
#include "hw/cuda/nvml_telemetry.h"
#include "hw/hardware_backend.h"
#include "io/config_error.h"

namespace vibesim {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(fmt::format("CUDA {}: {}", what, cudaGetErrorString(status)));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(fmt::format("cuBLAS {}: status {}", what, static_cast<int>(status)));
}

// The four cuBLAS functions the executor calls, from libcublas.so.<major>.
class Cublas {
 public:
  Cublas() {
    const std::string soname = fmt::format("libcublas.so.{}", CUBLAS_VER_MAJOR);
    library_ = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr)  // the toolkit this was built with
      library_ = dlopen((std::string(VIBESIM_CUDA_LIBRARY_DIR) + "/" + soname).c_str(),
                        RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr)
      throw NoDevice(fmt::format("hw: cannot load {} (cuBLAS): {}", soname, dlerror()));
    resolve("cublasCreate_v2", create);
    resolve("cublasDestroy_v2", destroy);
    resolve("cublasSetStream_v2", set_stream);
    resolve("cublasGemmEx", gemm_ex);
  }
  ~Cublas() { dlclose(library_); }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;

  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  // cublasGemmEx's C signature (C++ sees an overload set).
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                            int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                            cublasGemmAlgo_t) = nullptr;

 private:
  template <class Function>
  void resolve(const char* name, Function& out) {
    out = reinterpret_cast<Function>(dlsym(library_, name));
    if (out == nullptr) throw NoDevice(fmt::format("hw: cuBLAS lacks {}", name));
  }
  void* library_ = nullptr;
};

struct CudaFree {
  void operator()(void* p) const { cudaFree(p); }
};
using DeviceMemory = std::unique_ptr<void, CudaFree>;

DeviceMemory allocate(std::uint64_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, std::max<std::uint64_t>(bytes, 1)), "cudaMalloc");
  return DeviceMemory(p);
}

// Row-major C[m×n] = A[m×k] · B[k×n]; cuBLAS is column-major, so it computes
// Cᵀ = Bᵀ · Aᵀ.
void gemm_bf16(const Cublas& cublas, cublasHandle_t blas, std::int64_t m, std::int64_t n,
               std::int64_t k, const void* a, const void* b, void* c) {
  const float alpha = 1.0f, beta = 0.0f;
  check(cublas.gemm_ex(blas, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                       static_cast<int>(k), &alpha, b, CUDA_R_16BF, static_cast<int>(n), a,
                       CUDA_R_16BF, static_cast<int>(k), &beta, c, CUDA_R_16BF, static_cast<int>(n),
                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

// One device's share of an executor: its stream, cuBLAS handle, weights and
// activations, and a start and stop event per virtual GPU it runs.
class DeviceWorker {
 public:
  DeviceWorker(const Cublas& cublas, int device, std::vector<int> virtual_gpus,
               const DeviceMemoryPlan& plan)
      : cublas_(cublas), device_(device), virtual_gpus_(std::move(virtual_gpus)), plan_(plan) {
    check(cudaSetDevice(device_), "cudaSetDevice");
    std::size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    if (plan_.bytes() > free_bytes)
      throw InputError(fmt::format("hw: device {} has {} MiB free; the experts need {} MiB",
                                   device_, free_bytes >> 20, plan_.bytes() >> 20));
    check(cudaStreamCreate(&stream_), "cudaStreamCreate");
    check(cublas_.create(&blas_), "cublasCreate");
    check(cublas_.set_stream(blas_, stream_), "cublasSetStream");
    const auto h = plan_.shape.hidden, i = plan_.shape.intermediate;
    const auto elements = [](std::int64_t a, std::int64_t b) {
      return static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b);
    };
    for (int s = 0; s < plan_.weight_sets; ++s) {
      gate_up_weights_.push_back(filled(elements(h, 2 * i), 1000u + 2u * s, 0.02f));
      down_weights_.push_back(filled(elements(i, h), 1001u + 2u * s, 0.02f));
    }
    const auto t = plan_.max_expert_tokens;
    x_ = filled(elements(t, h), 7u, 1.0f);
    gate_up_ = allocate(elements(t, 2 * i) * ExpertShape::kBytesPerElement);
    act_ = allocate(elements(t, i) * ExpertShape::kBytesPerElement);
    y_ = allocate(elements(t, h) * ExpertShape::kBytesPerElement);
    for (std::size_t v = 0; v < 2 * virtual_gpus_.size(); ++v) {
      cudaEvent_t e = nullptr;
      check(cudaEventCreate(&e), "cudaEventCreate");
      events_.push_back(e);
    }
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }
  ~DeviceWorker() {
    cudaSetDevice(device_);
    for (auto e : events_) cudaEventDestroy(e);
    if (blas_ != nullptr) cublas_.destroy(blas_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  DeviceWorker(const DeviceWorker&) = delete;
  DeviceWorker& operator=(const DeviceWorker&) = delete;

  // Runs its virtual GPUs' experts one GPU after another; each GPU's time is
  // the span between its own two events.
  void run(const LayerWork& work, std::span<double> compute_ns) {
    check(cudaSetDevice(device_), "cudaSetDevice");
    for (std::size_t k = 0; k < virtual_gpus_.size(); ++k) {
      check(cudaEventRecord(events_[2 * k], stream_), "cudaEventRecord");
      const auto slots = work.gpu_slots(virtual_gpus_[k]);
      for (std::size_t s = 0; s < slots.size(); ++s) run_expert(slots[s], static_cast<int>(s));
      check(cudaEventRecord(events_[2 * k + 1], stream_), "cudaEventRecord");
    }
    check(cudaEventSynchronize(events_.back()), "cudaEventSynchronize");
    for (std::size_t k = 0; k < virtual_gpus_.size(); ++k) {
      float ms = 0;
      check(cudaEventElapsedTime(&ms, events_[2 * k], events_[2 * k + 1]), "cudaEventElapsedTime");
      compute_ns[static_cast<std::size_t>(virtual_gpus_[k])] = static_cast<double>(ms) * 1e6;
    }
  }

 private:
  DeviceMemory filled(std::uint64_t count, std::uint32_t seed, float scale) {
    auto memory = allocate(count * ExpertShape::kBytesPerElement);
    cuda::fill_bf16(memory.get(), count, seed, scale, stream_);
    check(cudaGetLastError(), "fill kernel");
    return memory;
  }

  // One expert's FFN on `tokens` tokens, in chunks of the activation buffers.
  void run_expert(std::int32_t tokens, int slot) {
    const auto set = static_cast<std::size_t>(slot % plan_.weight_sets);
    const auto h = plan_.shape.hidden, i = plan_.shape.intermediate;
    for (std::int64_t done = 0; done < tokens; done += plan_.max_expert_tokens) {
      const auto n = std::min<std::int64_t>(plan_.max_expert_tokens, tokens - done);
      gemm_bf16(cublas_, blas_, n, 2 * i, h, x_.get(), gate_up_weights_[set].get(), gate_up_.get());
      cuda::swiglu_bf16(gate_up_.get(), act_.get(), n, i, stream_);
      gemm_bf16(cublas_, blas_, n, h, i, act_.get(), down_weights_[set].get(), y_.get());
    }
  }

  const Cublas& cublas_;
  int device_;
  std::vector<int> virtual_gpus_;
  DeviceMemoryPlan plan_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  std::vector<DeviceMemory> gate_up_weights_, down_weights_;
  DeviceMemory x_, gate_up_, act_, y_;
  std::vector<cudaEvent_t> events_;
};

class CudaExecutor final : public LayerExecutor {
 public:
  CudaExecutor(const DeviceMemoryPlan& plan, int num_virtual_gpus, int num_devices) {
    for (int d = 0; d < std::min(num_devices, num_virtual_gpus); ++d) {
      std::vector<int> hosted;
      for (int v = 0; v < num_virtual_gpus; ++v)
        if (device_of_virtual_gpu(v, num_devices) == d) hosted.push_back(v);
      workers_.push_back(std::make_unique<DeviceWorker>(cublas_, d, std::move(hosted), plan));
    }
  }

  // Devices run concurrently, one host thread each.
  void run(const LayerWork& work, std::span<double> compute_ns) override {
    if (workers_.size() == 1) return workers_.front()->run(work, compute_ns);
    std::vector<std::exception_ptr> errors(workers_.size());
    std::vector<std::thread> threads;
    for (std::size_t d = 0; d < workers_.size(); ++d)
      threads.emplace_back([&, d] {
        try {
          workers_[d]->run(work, compute_ns);
        } catch (...) {
          errors[d] = std::current_exception();
        }
      });
    for (auto& t : threads) t.join();
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

 private:
  Cublas cublas_;  // before the workers, which use it until they are destroyed
  std::vector<std::unique_ptr<DeviceWorker>> workers_;
};

class CudaBackend final : public HardwareBackend {
 public:
  explicit CudaBackend(int count) : count_(count) {}

  std::vector<DeviceInfo> devices() override {
    std::vector<DeviceInfo> out;
    for (int d = 0; d < count_; ++d) {
      cudaDeviceProp prop{};
      check(cudaGetDeviceProperties(&prop, d), "cudaGetDeviceProperties");
      char bus_id[32] = {};
      check(cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, d), "cudaDeviceGetPCIBusId");
      DeviceInfo info{prop.name, fmt::format("{}.{}", prop.major, prop.minor), bus_id, 0, 0, 0};
      check(cudaDriverGetVersion(&info.driver_version), "cudaDriverGetVersion");
      check(cudaSetDevice(d), "cudaSetDevice");
      std::size_t free_bytes = 0, total_bytes = 0;
      check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
      info.free_bytes = free_bytes;
      info.total_bytes = total_bytes;
      out.push_back(std::move(info));
    }
    return out;
  }

  DeviceTelemetry telemetry(int device) override {
    char bus_id[32] = {};
    if (cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, device) != cudaSuccess) return {};
    return nvml_.read(bus_id);
  }

  std::unique_ptr<LayerExecutor> make_executor(const DeviceMemoryPlan& plan, int num_virtual_gpus,
                                               int /*slots_per_gpu*/) override {
    return std::make_unique<CudaExecutor>(plan, num_virtual_gpus, count_);
  }

 private:
  int count_;
  cuda::NvmlTelemetry nvml_;
};

}  // namespace

std::unique_ptr<HardwareBackend> open_cuda_backend() {
  int count = 0;
  const auto status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess)
    throw NoDevice(fmt::format("hw: no usable CUDA device ({})", cudaGetErrorString(status)));
  if (count == 0) throw NoDevice("hw: no CUDA device visible");
  return std::make_unique<CudaBackend>(count);
}

}  // namespace vibesim
