#pragma once
// The two kernels the CUDA executor needs besides cuBLAS's GEMMs, behind
// plain launch functions so the backend itself is ordinary C++.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace vibesim::cuda {

// Fills `count` BF16 values with hashed values in [-scale, scale]: GEMMs on
// realistic data draw realistic power (zeros would not).
void fill_bf16(void* data, std::uint64_t count, std::uint32_t seed, float scale,
               cudaStream_t stream);

// act[t][j] = silu(gate_up[t][j]) * gate_up[t][intermediate + j], row-major,
// BF16: the SwiGLU between the two GEMMs.
void swiglu_bf16(const void* gate_up, void* act, std::int64_t tokens, std::int64_t intermediate,
                 cudaStream_t stream);

}  // namespace vibesim::cuda
