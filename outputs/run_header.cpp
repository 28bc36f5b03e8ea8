#include "outputs/run_header.h"

namespace vibesim {

nlohmann::ordered_json run_header_json(const Experiment& x) {
  return {{"experiment", x.name},
          {"seed", x.seed},
          {"model", x.model.name},
          {"gpu", x.cluster.sku.name},
          {"profile", x.cluster.profile.name},
          {"num_gpus", x.cluster.num_gpus}};
}

}  // namespace vibesim
