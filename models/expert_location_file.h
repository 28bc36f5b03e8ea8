#pragma once
// SGLang's expert-location file, as `vibesim place` writes it and SGLang's
// --init-expert-location reads it: {"physical_to_logical_map": [[...], ...]},
// layers x slots, slot s on GPU s / (slots / num_gpus). Other keys are ignored.
#include <filesystem>
#include <string>

#include "models/placement.h"

namespace vibesim {

// InputError naming the file and key for anything malformed: not an object,
// no map, rows of different or zero length, a length not divisible by
// `num_gpus`, an id that is not an integer in [0, 65536), or more than
// 100,000 layers. Whether the ids suit a model is the caller's check
// (placement_problem).
Placement read_expert_location_file(const std::filesystem::path& path, int num_gpus);

// The file's text for `placement`: the map alone (SGLang passes every top-level
// key to its mapping initialiser, which takes physical_to_logical_map only),
// one layer per line so that placements diff well.
std::string expert_location_file_text(const Placement& placement);

}  // namespace vibesim
