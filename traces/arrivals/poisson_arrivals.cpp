// Poisson arrivals: exponential gaps with mean 1 / rate.
#include "traces/arrival_process.h"

namespace vibesim {

namespace {

class PoissonArrivals final : public ArrivalProcess {
 public:
  explicit PoissonArrivals(double rate_per_s) : gap_(rate_per_s) {}
  double next_gap_s(RandomEngine& rng) override { return gap_(rng); }

 private:
  std::exponential_distribution<double> gap_;
};

}  // namespace

std::unique_ptr<ArrivalProcess> make_poisson_arrivals(double rate_per_s) {
  return std::make_unique<PoissonArrivals>(rate_per_s);
}

}  // namespace vibesim
