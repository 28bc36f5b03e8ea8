#pragma once
// Recorded per-expert loads (token counts) of a real deployment, layers x
// experts, as `vibesim place` reads them:
//  - JSON {"logical_count": [[...], ...]}, the form SGLang's expert-distribution
//    recorder writes (other keys are ignored);
//  - CSV with the header `layer,expert,count` (0-based ids; a missing cell is
//    0, repeated cells add up, so several recording windows can be concatenated).
// Chosen by extension (.json, else CSV). Counts must be finite and >= 0; rows
// of the JSON matrix must all have the same length. Errors name the file and
// the key or line.
#include <filesystem>
#include <vector>

namespace vibesim {

std::vector<std::vector<double>> read_expert_loads(const std::filesystem::path& path);

}  // namespace vibesim
