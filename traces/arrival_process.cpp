#include "traces/arrival_process.h"

#include <stdexcept>

namespace vibesim {

std::unique_ptr<ArrivalProcess> make_arrival_process(RequestSource source, double rate_per_s,
                                                     double burstiness_cv) {
  switch (source) {
    case RequestSource::kPoisson:
      return make_poisson_arrivals(rate_per_s);
    case RequestSource::kGamma:
      return make_gamma_arrivals(rate_per_s, burstiness_cv);
    case RequestSource::kTrace:
      break;
  }
  throw std::logic_error("make_arrival_process: a trace has no arrival process");
}

}  // namespace vibesim
