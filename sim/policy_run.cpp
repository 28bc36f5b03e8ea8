#include "sim/policy_run.h"

#include "base/derived_seed.h"

namespace vibesim {

PolicyRun::PolicyRun(const Experiment& x, const ClusterSetup& setup, const std::string& name,
                     const PlacementPolicy& policy)
    : measured_gpus(x.cluster.measured_latency.empty()
                        ? std::nullopt
                        : std::make_optional<ProfiledExecutor>(x.cluster.measured_latency)),
      live(x, setup, name, policy),
      stepper(measured_gpus
                  ? MoeLayerStepper(x.model, *measured_gpus, setup.topology, live.placement(),
                                    make_deployment(x.serving.deployment)->moe_exchange(),
                                    x.cluster.profile.kernel_jitter_cv,
                                    derive_seed(x.seed, RandomStream::kKernelJitter))
                  : MoeLayerStepper(x.model, setup.gpus, setup.topology, live.placement(),
                                    x.cluster.profile.kernel_jitter_cv,
                                    derive_seed(x.seed, RandomStream::kKernelJitter),
                                    make_deployment(x.serving.deployment)->moe_exchange())),
      conditions(x.cluster.num_gpus, x.cluster.profile.thermal_drift,
                 x.cluster.profile.thermal_state, x.gpu_events,
                 derive_seed(x.seed, RandomStream::kThermalDrift)) {}

}  // namespace vibesim
