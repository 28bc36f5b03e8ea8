#pragma once
// The keys every summary.json starts with: which experiment ran, on what.
#include <nlohmann/json.hpp>

#include "sim/experiment.h"

namespace vibesim {

nlohmann::ordered_json run_header_json(const Experiment& x);

}  // namespace vibesim
