#pragma once
// SGLang's expert-location file, as `vibesim place` writes it and SGLang's
// --init-expert-location reads it: {"physical_to_logical_map": [[...], ...]},
// layers x slots, slot s on GPU s / (slots / num_gpus). Other keys are ignored.
#include <filesystem>

#include "models/placement.h"

namespace vibesim {

// InputError naming the file and key for anything malformed: not an object,
// no map, rows of different or zero length, a length not divisible by
// `num_gpus`, an id that is not an integer in [0, 65536), or more than
// 100,000 layers. Whether the ids suit a model is the caller's check
// (placement_problem).
Placement read_expert_location_file(const std::filesystem::path& path, int num_gpus);

}  // namespace vibesim
