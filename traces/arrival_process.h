#pragma once
// When generated requests arrive: an interface with one implementation per
// file in traces/arrivals/, chosen by the `serving.requests.source` table
// (kRequestSources, traces/request_stream.h).
#include <memory>
#include <random>

#include "base/random_engine.h"
#include "traces/request_stream.h"

namespace vibesim {

class ArrivalProcess {
 public:
  virtual ~ArrivalProcess() = default;
  // Seconds from one arrival to the next, drawn from `rng`.
  virtual double next_gap_s(RandomEngine& rng) = 0;
};

// Implementations (traces/arrivals/): mean gap 1 / rate_per_s.
std::unique_ptr<ArrivalProcess> make_poisson_arrivals(double rate_per_s);
std::unique_ptr<ArrivalProcess> make_gamma_arrivals(double rate_per_s, double burstiness_cv);

// The arrival process of a generated stream; `source` must not be kTrace.
std::unique_ptr<ArrivalProcess> make_arrival_process(RequestSource source, double rate_per_s,
                                                     double burstiness_cv);

}  // namespace vibesim
