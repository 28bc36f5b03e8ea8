#include "hw/cuda/device_kernels.h"

#include <cuda_bf16.h>

namespace vibesim::cuda {

namespace {

__global__ void fill_kernel(__nv_bfloat16* data, std::uint64_t count, std::uint32_t seed,
                            float scale) {
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
       i < count; i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    std::uint32_t h = static_cast<std::uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    const float unit = static_cast<float>(h & 0xffffffu) / static_cast<float>(0xffffff);
    data[i] = __float2bfloat16(scale * (2.0f * unit - 1.0f));
  }
}

__global__ void swiglu_kernel(const __nv_bfloat16* gate_up, __nv_bfloat16* act, std::int64_t tokens,
                              std::int64_t intermediate) {
  const std::int64_t total = tokens * intermediate;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t t = i / intermediate, j = i % intermediate;
    const float gate = __bfloat162float(gate_up[t * 2 * intermediate + j]);
    const float up = __bfloat162float(gate_up[t * 2 * intermediate + intermediate + j]);
    act[i] = __float2bfloat16(gate / (1.0f + __expf(-gate)) * up);
  }
}

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 4096;

int blocks_for(std::uint64_t count) {
  const auto blocks = (count + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

}  // namespace

void fill_bf16(void* data, std::uint64_t count, std::uint32_t seed, float scale,
               cudaStream_t stream) {
  fill_kernel<<<blocks_for(count), kThreads, 0, stream>>>(static_cast<__nv_bfloat16*>(data), count,
                                                          seed, scale);
}

void swiglu_bf16(const void* gate_up, void* act, std::int64_t tokens, std::int64_t intermediate,
                 cudaStream_t stream) {
  swiglu_kernel<<<blocks_for(static_cast<std::uint64_t>(tokens * intermediate)), kThreads, 0,
                  stream>>>(static_cast<const __nv_bfloat16*>(gate_up),
                            static_cast<__nv_bfloat16*>(act), tokens, intermediate);
}

}  // namespace vibesim::cuda
