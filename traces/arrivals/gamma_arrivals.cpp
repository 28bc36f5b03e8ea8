// Bursty arrivals: Gamma gaps with mean 1 / rate and coefficient of variation
// cv (shape 1/cv^2, scale cv^2/rate); cv = 1 is Poisson, larger is burstier.
#include "traces/arrival_process.h"

namespace vibesim {

namespace {

class GammaArrivals final : public ArrivalProcess {
 public:
  GammaArrivals(double rate_per_s, double cv)
      : gap_(1.0 / (cv * cv), 1.0 / (1.0 / (cv * cv) * rate_per_s)) {}
  double next_gap_s(RandomEngine& rng) override { return gap_(rng); }

 private:
  std::gamma_distribution<double> gap_;
};

}  // namespace

std::unique_ptr<ArrivalProcess> make_gamma_arrivals(double rate_per_s, double burstiness_cv) {
  return std::make_unique<GammaArrivals>(rate_per_s, burstiness_cv);
}

}  // namespace vibesim
