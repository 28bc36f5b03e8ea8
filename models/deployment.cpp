#include "models/deployment.h"

namespace vibesim {

std::unique_ptr<const Deployment> make_deployment(DeploymentKind kind) {
  switch (kind) {
    case DeploymentKind::kDpAttention:
      return make_dp_attention_deployment();
    case DeploymentKind::kTpEpAllReduce:
      return make_tp_ep_all_reduce_deployment();
    case DeploymentKind::kTpAttention:
      break;
  }
  return make_tp_attention_deployment();
}

}  // namespace vibesim
