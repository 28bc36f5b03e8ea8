// Fitting synthetic routing to traces: a known dispersion is recovered, and
// routing drawn from the fit of the real FLAME-MoE trace has the trace's
// statistics (popularity, and how much batches deviate from it).
#include <doctest/doctest.h>

#include <cmath>

#include "fixtures.h"
#include "io/config_error.h"
#include "traces/routing_fit.h"
#include "traces/synthetic_routing.h"
#include "traces/trace_format.h"
#include "traces/trace_stats.h"

using namespace vibesim;

namespace {

// `steps` batches of `tokens` drawn from `routing`, as a count trace.
CountTrace draw_trace(SyntheticRouting& routing, int layers, int experts, std::size_t steps,
                      std::int64_t tokens) {
  CountTrace trace;
  trace.num_experts = experts;
  trace.steps = steps;
  for (int l = 0; l < layers; ++l) trace.layer_ids.push_back(l);
  for (std::size_t s = 0; s < steps; ++s)
    for (int l = 0; l < layers; ++l) {
      const auto c = routing.next_counts({l, tokens});
      trace.counts.insert(trace.counts.end(), c.begin(), c.end());
    }
  return trace;
}

}  // namespace

TEST_CASE("batch dispersion: the Dirichlet concentration gives the variance ratio asked for") {
  const BatchDispersion d{0.002, 1.0};
  CHECK(d.variance_ratio(1000) == doctest::Approx(3.0));
  const double alpha = d.dirichlet_concentration(1000);  // (m - phi) / (phi - 1)
  CHECK(alpha == doctest::Approx(498.5));
  CHECK((1000 + alpha) / (1 + alpha) == doctest::Approx(3.0));
  CHECK(std::isinf(BatchDispersion{}.dirichlet_concentration(1000)));
}

TEST_CASE("a known dispersion is recovered from a count trace drawn with it") {
  SyntheticRoutingSpec spec;
  spec.zipf_exponent = 0.8;
  spec.dispersion = {0.002, 1.0};
  spec.pool_size = 2000;
  SyntheticRouting routing(2, 64, 4, spec, 3, 4);
  const auto trace = draw_trace(routing, 2, 64, 2000, 256);  // 1,024 assignments a batch
  const auto fit = fit_routing(trace, 4);
  REQUIRE(fit.layers.size() == 2);
  for (const auto& layer : fit.layers) {
    // phi(1024) = 1 + 0.002 * 1024 = 3.05; the cap at 1/top_k binds rarely here.
    CHECK(layer.measured[0].second == doctest::Approx(3.05).epsilon(0.1));
    CHECK(layer.dispersion.coefficient == doctest::Approx(0.002).epsilon(0.1));
  }
  // Without dispersion the batches are multinomial: phi near 1.
  spec.dispersion = {};
  SyntheticRouting plain(1, 64, 4, spec, 3, 4);
  CHECK(measured_variance_ratio(draw_trace(plain, 1, 64, 2000, 256), 0) ==
        doctest::Approx(1.0).epsilon(0.1));
}

TEST_CASE("routing drawn from the FLAME-MoE fit matches the real trace within 10 %") {
  const auto real = read_token_trace(testing::data_dir() / "routing" / "flame-moe-290m" /
                                     "flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv");
  const auto fit = fit_routing(real);
  REQUIRE(fit.layers.size() == 8);
  SyntheticRoutingSpec spec;
  spec.distribution = PopularityDistribution::kFitted;
  spec.fit = std::make_shared<const RoutingFit>(fit);
  spec.pool_size = 400;
  SyntheticRouting routing(8, 64, 6, spec, 1, 2);
  const auto generated = draw_trace(routing, 8, 64, 400, 256);
  const auto real_counts = count_tokens(real, 256);  // 8 steps of 256 tokens
  const auto real_stats = trace_stats(real_counts, 8);
  const auto generated_stats = trace_stats(generated, 8);
  for (std::size_t l = 0; l < 8; ++l) {
    CAPTURE(l);
    // Popularity: the same skew over the whole trace.
    CHECK(generated_stats[l].max_over_mean ==
          doctest::Approx(real_stats[l].max_over_mean).epsilon(0.1));
    CHECK(generated_stats[l].cv == doctest::Approx(real_stats[l].cv).epsilon(0.1));
    // Dispersion: batches of 256 tokens deviate from it as much as the real ones.
    CHECK(measured_variance_ratio(generated, l) ==
          doctest::Approx(measured_variance_ratio(real_counts, l)).epsilon(0.1));
  }
}

TEST_CASE("the shipped FLAME-MoE fit is what trace fit derives from the shipped trace") {
  const auto shipped =
      RoutingFit::load(testing::config_dir() / "routing" / "flame-moe-290m-fit.json");
  auto derived =
      fit_routing(read_token_trace(testing::data_dir() / "routing" / "flame-moe-290m" /
                                   "flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv"));
  derived.description = shipped.description;
  CHECK(derived.to_json().dump() == shipped.to_json().dump());
}

TEST_CASE("a fit round-trips through its JSON, and bad fits are refused naming the key") {
  testing::TempDir dir("routing-fit");
  RoutingFit fit{"a test", 2, 3, {{7, {0.5, 0.25, 0.25}, {0.01, 0.8}, {{48.0, 1.2}}}}};
  const auto path = dir.write("fit.json", fit.to_json().dump(2));
  const auto loaded = RoutingFit::load(path);
  CHECK(loaded.to_json() == fit.to_json());
  CHECK_THROWS_WITH_AS(
      RoutingFit::load(dir.write("bad.json", R"({"top_k": 2, "experts": 3, "layers": [
        {"layer": 0, "dispersion": {"coefficient": 0, "exponent": 1}, "measured": [],
         "popularity": [0.5, 0.5]}]})")),
      doctest::Contains("bad.json: key 'layers[0].popularity': has 2 entries, not experts = 3"),
      InputError);
}
