#include "sim/policy_run.h"

#include "base/derived_seed.h"

namespace vibesim {

PolicyRun::PolicyRun(const Experiment& x, const ClusterSetup& setup, const std::string& name,
                     const PlacementPolicy& policy)
    : live(x, setup, name, policy),
      stepper(x.model, setup.gpus, setup.topology, live.placement(),
              x.cluster.profile.kernel_jitter_cv, derive_seed(x.seed, RandomStream::kKernelJitter),
              make_deployment(x.serving.deployment)->moe_exchange()),
      conditions(x.cluster.num_gpus, x.cluster.profile.thermal_drift, x.gpu_events,
                 derive_seed(x.seed, RandomStream::kThermalDrift)) {}

}  // namespace vibesim
