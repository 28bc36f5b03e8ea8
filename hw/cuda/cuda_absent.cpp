// Built instead of the CUDA backend when VIBESIM_CUDA is OFF or no CUDA
// compiler was found.
#include "hw/hardware_backend.h"

namespace vibesim {

std::unique_ptr<HardwareBackend> open_cuda_backend() {
  throw NoDevice(
      "hw: this vibesim was built without CUDA (VIBESIM_CUDA=OFF or no nvcc found); "
      "rebuild with -DVIBESIM_CUDA=ON on a machine with the CUDA toolkit");
}

}  // namespace vibesim
