// Fidelity: the facts file, the fit (it must recover parameters whose facts
// it was given) and the shipped SKU's agreement with the committed fit.
#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "io/config_error.h"
#include "models/gpu_sku.h"
#include "studies/fidelity.h"

using namespace vibesim;

namespace {

const ConfigLocations& locations() {
  static const auto l = ConfigLocations::from_environment();
  return l;
}

// A facts file over one small prefill-only run of paper-dsv3-sonnet.
std::string small_facts(const std::string& facts) {
  const auto experiment = testing::config_dir() / "experiments" / "paper-dsv3-sonnet.json";
  std::string text = R"({"gpu": "mi325x", "seeds": 1,
    "parameters": ["kernel.moe_compute_efficiency", "kernel.attention_compute_efficiency",
                   "kernel.dense_compute_efficiency",
                   "interconnect.collective_bandwidth_efficiency"],
    "runs": {"prefill": {"experiment": ")";
  text += experiment.string();
  text += R"(", "set": ["serving.mode=prefill_only",
      "serving.max_batched_tokens=8192", "workload.calibration_batches=5",
      "serving.requests={\"source\":\"poisson\",\"rate_per_gpu\":20,\"count\":24,\"lengths\":{\"kind\":\"fixed\",\"input_tokens\":1024,\"output_tokens\":1}}"]}},
    "facts": [)";
  text += facts;
  text += "]}";
  return text;
}

std::string share_fact(const std::string& part, double paper) {
  std::string text = R"({"name": ")";
  text += part;
  text += R"(", "metric": "time_share.)";
  text += part;
  text += R"(", "run": "prefill", "paper": )";
  text += std::to_string(paper);
  text += R"(, "role": "fit"})";
  return text;
}

}  // namespace

TEST_CASE("the shipped MI325X SKU holds the committed fit's parameters") {
  const auto fit = nlohmann::json::parse(
      testing::read_file(testing::config_dir() / "fidelity" / "paper-mi325x.fit.json"));
  auto sku = load_gpu_sku(testing::config_dir() / "gpus" / "mi325x.json");
  const auto spec =
      FidelitySpec::load(testing::config_dir() / "fidelity" / "paper-mi325x.json", locations());
  REQUIRE(spec.parameters.size() == fit["parameters"].size());
  for (const auto& p : spec.parameters) {
    INFO(p);
    const auto parameter = *find_choice(kFittableSkuParameters, p);
    CHECK(parameter.field(sku) ==
          doctest::Approx(fit["parameters"][p].get<double>()).epsilon(1e-3));
  }
  int fitted = 0;
  for (const auto& f : spec.facts) fitted += f.fitted ? 1 : 0;
  CHECK(fitted == 5);  // the prefill breakdown and one frontier; the rest held out
  CHECK(spec.facts.size() > 20);
}

TEST_CASE("a facts file that extends another takes its runs and facts and fits what it names") {
  const auto shipped =
      FidelitySpec::load(testing::config_dir() / "fidelity" / "paper-mi325x.json", locations());
  const auto windowed = FidelitySpec::load(
      testing::config_dir() / "fidelity" / "paper-mi325x-windowed.json", locations());
  auto parameters = shipped.parameters;
  parameters.push_back(kPowerWindowParameter);
  CHECK(windowed.parameters == parameters);
  CHECK(windowed.seeds == shipped.seeds);
  REQUIRE(windowed.facts.size() == shipped.facts.size());
  for (std::size_t i = 0; i < shipped.facts.size(); ++i) {
    const auto& a = shipped.facts[i];
    const auto& b = windowed.facts[i];
    INFO(a.name);
    CHECK(b.name == a.name);
    CHECK(b.metric == a.metric);
    CHECK(b.run == a.run);
    CHECK(b.policy == a.policy);
    CHECK(b.paper == a.paper);
    // The MoE kernel's time at the power limit fits the window; the rest as shipped.
    CHECK(b.fitted == (a.fitted || a.metric == FactMetric::kMoeTimeAtCap));
  }
  CHECK(windowed.runs.size() == shipped.runs.size());
  for (const auto& [name, run] : shipped.runs) {
    INFO(name);
    REQUIRE(windowed.runs.contains(name));
    CHECK(windowed.runs.at(name).experiment == run.experiment);
    CHECK(windowed.runs.at(name).overrides == run.overrides);
  }
}

TEST_CASE("the fit recovers the parameter ratios whose time shares it was given") {
  testing::TempDir dir("fidelity-fit");
  // The shares the simulator gives at known ratios to the MoE efficiency...
  const double moe = 0.1193;
  const ParameterValues truth{{"kernel.moe_compute_efficiency", moe},
                              {"kernel.attention_compute_efficiency", moe * 1.5},
                              {"kernel.dense_compute_efficiency", moe * 0.5},
                              {"interconnect.collective_bandwidth_efficiency", moe * 3}};
  const auto probe = FidelitySpec::load(
      dir.write("probe.json",
                small_facts(share_fact("moe_kernel", 1) + "," + share_fact("attention", 1) + "," +
                            share_fact("other", 1) + "," + share_fact("communication", 1))),
      locations());
  const auto registry = PolicyRegistry::builtin();
  const auto measured = evaluate_facts(probe, truth, false, locations(), registry, {});
  // ... given as facts, from the SKU's own (different) ratios.
  std::string facts;
  for (const auto& r : measured) {
    if (!facts.empty()) facts += ',';
    facts += share_fact(r.fact->name, r.simulated.mean);
  }
  const auto spec = FidelitySpec::load(dir.write("facts.json", small_facts(facts)), locations());
  const auto fit = fit_parameters(spec, locations(), registry, {});
  for (const auto& [name, value] : truth) {
    INFO(name);
    CHECK(fit.fitted.at(name) / fit.fitted.at("kernel.moe_compute_efficiency") ==
          doctest::Approx(value / moe).epsilon(0.02));
  }
  for (const auto& r : fit.fitted_facts) CHECK(std::abs(r.relative_error()) < 0.01);
}

TEST_CASE("the fit recovers the power window whose MoE time at the limit it was given") {
  testing::TempDir dir("fidelity-window");
  // The efficiencies stay as shipped; only the window is a parameter.
  const auto with_window_only = [](std::string text) {
    const auto from = text.find("\"kernel.moe_compute_efficiency\"");
    const auto to = text.find(']', from);
    return text.replace(from, to - from, "\"power.limit_window_s\"");
  };
  const auto fact = [](const std::string& metric, double paper, const std::string& role) {
    return R"({"name": ")" + metric + R"(", "metric": ")" + metric +
           R"(", "run": "prefill", "paper": )" + std::to_string(paper) + R"(, "role": ")" + role +
           R"("})";
  };
  const auto registry = PolicyRegistry::builtin();
  const ParameterValues truth{{kPowerWindowParameter, 2e-3}};
  const auto probe = FidelitySpec::load(
      dir.write("probe.json",
                with_window_only(small_facts(fact("power.moe_time_at_cap", 1, "fit")))),
      locations());
  const double at_cap =
      evaluate_facts(probe, truth, false, locations(), registry, {})[0].simulated.mean;
  CHECK(at_cap > 0.1);
  CHECK(at_cap < 0.99);  // a window leaves the start of the kernel at full clock
  const auto spec = FidelitySpec::load(
      dir.write("facts.json",
                with_window_only(small_facts(fact("power.moe_time_at_cap", at_cap, "fit") + "," +
                                             fact("power.moe_clock_drop", 0.5, "held_out")))),
      locations());
  const auto fit = fit_parameters(spec, locations(), registry, {});
  CHECK(fit.start.at(kPowerWindowParameter) == 0.0);  // as shipped: instantaneous
  CHECK(fit.fitted.at(kPowerWindowParameter) == doctest::Approx(2e-3).epsilon(0.01));
  REQUIRE(fit.fitted_facts.size() == 1);  // the held-out fact is not fitted
  CHECK(fit.fitted_facts[0].simulated.mean == doctest::Approx(at_cap).epsilon(1e-3));
}

TEST_CASE("the fit recovers the power window and constants whose power facts it was given") {
  testing::TempDir dir("fidelity-power");
  const auto with_power_parameters = [](std::string text) {
    const auto from = text.find("\"kernel.moe_compute_efficiency\"");
    const auto to = text.find(']', from);
    return text.replace(from, to - from,
                        "\"power.limit_window_s\", \"power.dynamic_full_w\", "
                        "\"power.activity_memory_bound\"");
  };
  const auto fact = [](const std::string& metric, double paper) {
    return R"({"name": ")" + metric + R"(", "metric": ")" + metric +
           R"(", "run": "prefill", "paper": )" + std::to_string(paper) + R"(, "role": "fit"})";
  };
  const std::vector<std::string> metrics{"power.moe_time_at_cap", "power.moe_clock_drop",
                                         "power.decode_moe_power"};
  const auto facts_at = [&](const std::vector<double>& values) {
    std::string text;
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      if (i > 0) text += ",";
      text += fact(metrics[i], values[i]);
    }
    return with_power_parameters(small_facts(text));
  };
  const auto registry = PolicyRegistry::builtin();
  // Not the shipped values (instantaneous, 1500 W, 0.095), so the fit must move all three.
  const ParameterValues truth{{kPowerWindowParameter, 2e-3},
                              {"power.dynamic_full_w", 2000.0},
                              {"power.activity_memory_bound", 0.05}};
  const auto probe = FidelitySpec::load(dir.write("probe.json", facts_at({1, 1, 1})), locations());
  std::vector<double> at_truth;
  for (const auto& r : evaluate_facts(probe, truth, false, locations(), registry, {}))
    at_truth.push_back(r.simulated.mean);
  const auto spec = FidelitySpec::load(dir.write("facts.json", facts_at(at_truth)), locations());
  const auto fit = fit_parameters(spec, locations(), registry, {});
  CHECK(fit.start.at("power.dynamic_full_w") == 1500.0);
  for (const auto& [name, value] : truth) {
    INFO(name);
    CHECK(fit.fitted.at(name) == doctest::Approx(value).epsilon(0.02));
  }
  REQUIRE(fit.fitted_facts.size() == 3);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(fit.fitted_facts[i].simulated.mean == doctest::Approx(at_truth[i]).epsilon(1e-3));
}

TEST_CASE("with power far below the limit no clock drops, over a prefill layer either") {
  testing::TempDir dir("fidelity-uncapped");
  std::string facts;
  for (const std::string metric : {"power.moe_clock_drop", "power.prefill_clock"}) {
    if (!facts.empty()) facts += ",";
    facts += R"({"name": ")";
    facts += metric;
    facts += R"(", "metric": ")";
    facts += metric;
    facts += R"(", "run": "prefill", "paper": 1, "role": "fit"})";
  }
  const auto spec = FidelitySpec::load(dir.write("facts.json", small_facts(facts)), locations());
  // 1 W of dynamic power at full activity: no kernel comes near the cap.
  auto uncapped = spec;
  uncapped.parameters = {"power.dynamic_full_w"};
  const auto results = evaluate_facts(uncapped, {{"power.dynamic_full_w", 1.0}}, false, locations(),
                                      PolicyRegistry::builtin(), {});
  REQUIRE(results.size() == 2);
  CHECK(results[0].simulated.mean == 0.0);
  CHECK(results[1].simulated.mean == doctest::Approx(1.0).epsilon(1e-12));
  // As shipped, the MoE kernel is capped and the layer's clock lies between its
  // clock and full clock.
  const auto shipped = evaluate_facts(spec, {}, false, locations(), PolicyRegistry::builtin(), {});
  const double moe_clock = 1 - shipped[0].simulated.mean;
  CHECK(moe_clock < 0.9);
  CHECK(shipped[1].simulated.mean > moe_clock);
  CHECK(shipped[1].simulated.mean < 1.0);
}

TEST_CASE("a bad facts file names the file and the key") {
  testing::TempDir dir("fidelity-bad");
  const auto refused = [&](const std::string& text, const std::string& key) {
    try {
      FidelitySpec::load(dir.write("bad.json", text), locations());
      FAIL("accepted: " << text);
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("bad.json") != std::string::npos);
      CHECK(std::string(e.what()).find(key) != std::string::npos);
    }
  };
  refused(
      small_facts(share_fact("moe_kernel", 0.5))
          .replace(small_facts("").find("kernel.moe_compute_efficiency"), 29, "kernel.warp_speed"),
      "parameters");
  refused(small_facts(R"({"name": "x", "metric": "frontier", "run": "nope", "paper": 1,
                          "role": "fit"})"),
          "facts[0].run");
  refused(small_facts(R"({"name": "x", "metric": "latency", "run": "prefill", "paper": 1,
                          "role": "fit"})"),
          "facts[0].metric");
  refused(small_facts(R"({"name": "x", "metric": "frontier", "run": "prefill", "paper": 1,
                          "role": "maybe"})"),
          "facts[0].role");
  refused(small_facts(""), "facts");

  // A file extending another: the base must be a file, the chain must end,
  // the named facts must exist, and runs and facts come from the base only.
  const auto base = dir.write("base.json", small_facts(share_fact("moe_kernel", 0.5)));
  refused(R"({"extends": "missing.json"})", "extends");
  refused(R"({"extends": "bad.json"})", "extends");  // itself
  refused(R"({"extends": "base.json", "fit": ["no such fact"]})", "fit");
  refused(R"({"extends": "base.json", "facts": []})", "facts");
  refused(R"({"extends": "base.json", "parameters": ["kernel.warp_speed"]})", "parameters");
  const auto ok = FidelitySpec::load(
      dir.write("ok.json", R"({"extends": "base.json", "seeds": 2})"), locations());
  CHECK(ok.seeds == 2);
  CHECK(ok.facts.size() == FidelitySpec::load(base, locations()).facts.size());
}

TEST_CASE("a fit's parameters file holds each parameter to its own range") {
  testing::TempDir dir("fidelity-parameters");
  const auto spec =
      FidelitySpec::load(testing::config_dir() / "fidelity" / "paper-mi325x.json", locations());
  const auto file = [&](const std::string& name, const std::string& value) {
    return dir.write("fit.json",
                     R"({"gpu": "mi325x", "parameters": {")" + name + R"(": )" + value + "}}");
  };
  // Watts, not a fraction: 2443 W is accepted, an efficiency of 2 is not.
  CHECK(load_parameter_values(file("power.dynamic_full_w", "2443"), spec)
            .at("power.dynamic_full_w") == 2443.0);
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"power.dynamic_full_w", "0"},
                                                        {"kernel.moe_compute_efficiency", "2"},
                                                        {"power.activity_memory_bound", "0"}}) {
    INFO(name << " = " << value);
    try {
      (void)load_parameter_values(file(name, value), spec);
      FAIL("accepted");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("fit.json") != std::string::npos);
      CHECK(std::string(e.what()).find("parameters." + name) != std::string::npos);
    }
  }
}
