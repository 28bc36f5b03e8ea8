// Requests in (traces and generators), the serving loop, and its outputs.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/statistics.h"
#include "fixtures.h"
#include "io/config_error.h"
#include "policies/policy_registry.h"
#include "sim/serving_loop.h"
#include "tools/cli.h"
#include "traces/request_stream.h"
#include "traces/request_trace.h"

using namespace vibesim;
using testing::cli;

namespace {

std::string experiment(const char* name) {
  return (testing::config_dir() / "experiments" / name).string();
}

void check_trace_error(const testing::TempDir& dir, const std::string& file,
                       const std::string& text, const std::string& expected) {
  const auto path = dir.write(file, text);
  try {
    (void)read_request_trace(path);
    FAIL("no error for ", file);
  } catch (const InputError& e) {
    INFO("error: ", std::string(e.what()), "\nexpected: ", expected);
    CHECK(std::string(e.what()).find(expected) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("the Azure CSV and JSONL readers give arrivals relative to the first request") {
  testing::TempDir dir("requests-read");
  const auto csv = dir.write("t.csv",
                             "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                             "2023-11-16 18:15:46.6805900,374,44\n"
                             "2023-11-16 18:15:50.9951690,396,109\n"
                             "2023-11-17 00:00:00,10,0\n");
  const auto r = read_request_trace(csv);
  REQUIRE(r.size() == 3);
  CHECK(r[0].arrival.ns() == 0);
  CHECK(r[1].arrival.ns() == 4'314'579'000);
  CHECK(r[2].arrival.ns() == ((5 * 60 + 44) * 60 + 13) * 1'000'000'000LL + 319'410'000);
  CHECK(r[1].input_tokens == 396);
  CHECK(r[1].output_tokens == 109);
  const auto jsonl =
      dir.write("t.jsonl", R"({"timestamp": 1000, "input_length": 5, "output_length": 7, "x": 1})"
                           "\n\n"
                           R"({"timestamp": 1002.5, "input_length": 6, "output_length": 0})"
                           "\n");
  const auto j = read_request_trace(jsonl);
  REQUIRE(j.size() == 2);
  CHECK(j[1].arrival.ns() == 2'500'000);
  CHECK(j[1].output_tokens == 0);
}

TEST_CASE("bad request traces name the line") {
  testing::TempDir dir("requests-bad");
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  check_trace_error(dir, "order.csv", header + "2023-11-16 18:15:50,1,1\n2023-11-16 18:15:49,1,1\n",
                    "order.csv:3: timestamp goes back in time");
  check_trace_error(dir, "ts.csv", header + "yesterday,1,1\n", "ts.csv:2: TIMESTAMP 'yesterday'");
  check_trace_error(dir, "neg.csv", header + "2023-11-16 18:15:50,5,-3\n",
                    "neg.csv:2: column 'GeneratedTokens' must be in [0, 1048576], got -3");
  // Issue 16, bugs 2 and 3: lengths that would run for days, times that would overflow.
  check_trace_error(dir, "huge.csv", header + "2023-11-16 18:15:50,5,3000000000\n",
                    "huge.csv:2: column 'GeneratedTokens' must be in [0, 1048576]");
  check_trace_error(dir, "year.csv", header + "9999-11-16 18:15:50,5,3\n",
                    "year.csv:2: TIMESTAMP '9999-11-16 18:15:50' is not");
  check_trace_error(dir, "huge.jsonl",
                    "{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 1e12}\n",
                    "huge.jsonl:1: input_length must be an integer in [1, 1048576]");
  check_trace_error(dir, "far.jsonl",
                    "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n"
                    "{\"timestamp\": 9e18, \"input_length\": 1, \"output_length\": 1}\n",
                    "far.jsonl:2: timestamp 9e+18 ms is more than");
  check_trace_error(dir, "empty.csv", header, "empty.csv: no requests");
  check_trace_error(dir, "order.jsonl",
                    "{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 1}\n"
                    "{\"timestamp\": 4, \"input_length\": 1, \"output_length\": 1}\n",
                    "order.jsonl:2: timestamp goes back in time");
  check_trace_error(dir, "neg.jsonl",
                    "{\"timestamp\": 5, \"input_length\": -1, \"output_length\": 1}\n",
                    "neg.jsonl:1: input_length must be an integer in [1, 1048576]");
  check_trace_error(dir, "bad.jsonl", "{\"timestamp\": 5,\n", "bad.jsonl:1: not a JSON object");
  check_trace_error(dir, "empty.jsonl", "\n", "empty.jsonl: no requests");
}

TEST_CASE("request generators: Poisson and Gamma rates, ShareGPT-like and fixed lengths") {
  RequestStreamSpec spec;
  spec.count = 20000;
  spec.lengths.kind = LengthDistribution::kShareGpt;
  const auto poisson = generate_requests(spec, 4.0, 1, {});
  std::vector<double> gaps, in, out;
  for (std::size_t i = 1; i < poisson.size(); ++i)
    gaps.push_back((poisson[i].arrival - poisson[i - 1].arrival).seconds());
  for (const auto& r : poisson) {
    in.push_back(static_cast<double>(r.input_tokens));
    out.push_back(static_cast<double>(r.output_tokens));
  }
  CHECK(mean(gaps) == doctest::Approx(0.25).epsilon(0.03));
  CHECK(population_stddev(gaps) / mean(gaps) == doctest::Approx(1.0).epsilon(0.05));
  CHECK(mean(in) == doctest::Approx(219).epsilon(0.08));
  CHECK(mean(out) == doctest::Approx(201).epsilon(0.08));
  CHECK(quantile(in, 0.99) > 4 * quantile(in, 0.5));  // heavy-tailed
  spec.source = RequestSource::kGamma;
  spec.burstiness_cv = 3;
  spec.lengths.kind = LengthDistribution::kFixed;
  const auto gamma = generate_requests(spec, 4.0, 1, {});
  gaps.clear();
  for (std::size_t i = 1; i < gamma.size(); ++i)
    gaps.push_back((gamma[i].arrival - gamma[i - 1].arrival).seconds());
  CHECK(mean(gaps) == doctest::Approx(0.25).epsilon(0.1));
  CHECK(population_stddev(gaps) / mean(gaps) == doctest::Approx(3.0).epsilon(0.1));
  CHECK(gamma[5].input_tokens == 1024);
  CHECK(gamma[5].output_tokens == 128);
}

TEST_CASE(
    "a serving run writes every request with consistent metrics, byte-identical on rerun on any "
    "number of threads") {
  testing::TempDir dir("serve-small");
  const auto run = [&](const std::string& out, const char* jobs) {
    return cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                (dir.path / out).string(), "--jobs", jobs, "--set", "serving.requests.count=24",
                "--set", "workload.calibration_batches=5", "--set",
                R"(policies=["static","vibe"])"});
  };
  const auto a = run("a", "1");
  INFO(a.err);
  REQUIRE(a.status == 0);
  REQUIRE(run("b", "3").status == 0);  // routing pools drawn on 3 threads
  const auto csv = testing::read_file(dir.path / "a" / "requests.csv");
  CHECK(csv == testing::read_file(dir.path / "b" / "requests.csv"));
  CHECK(testing::read_file(dir.path / "a" / "summary.json") ==
        testing::read_file(dir.path / "b" / "summary.json"));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 2 * 24);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  int met = 0, rows = 0;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    REQUIRE(f.size() == 11);
    const double arrival = std::stod(f[2]), first = std::stod(f[5]), finish = std::stod(f[6]);
    CHECK(first > arrival);
    CHECK(finish >= first);
    CHECK(std::stod(f[7]) == doctest::Approx(first - arrival).epsilon(1e-4));  // 3 decimals
    CHECK(f[4] == "128");
    CHECK(std::stod(f[8]) == doctest::Approx((finish - first) / 127).epsilon(1e-3));
    if (f[0] == "static") {
      ++rows;
      met += f[10] == "1";
    }
  }
  const auto s = nlohmann::json::parse(testing::read_file(dir.path / "a" / "summary.json"));
  CHECK(s["policies"][0]["slo_attainment"].get<double>() == doctest::Approx(met / double(rows)));
  const auto& share = s["policies"][0]["time_share"];
  CHECK(share["moe_kernel"].get<double>() + share["attention"].get<double>() +
            share["other"].get<double>() + share["communication"].get<double>() ==
        doctest::Approx(1.0));
  CHECK(share["all_to_all"].get<double>() + share["all_reduce"].get<double>() +
            share["barrier_wait"].get<double>() ==
        doctest::Approx(share["communication"].get<double>()));
}

TEST_CASE("prefill-only requests end with their first token; decode-only start prefilled") {
  testing::TempDir dir("serve-modes");
  for (const std::string mode : {"prefill_only", "decode_only"}) {
    const auto r = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                        (dir.path / mode).string(), "--set", "serving.requests.count=8", "--set",
                        "serving.mode=" + mode, "--set", "workload.calibration_batches=5", "--set",
                        R"(policies=["eplb"])"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto s = nlohmann::json::parse(testing::read_file(dir.path / mode / "summary.json"));
    const auto& p = s["policies"][0];
    CHECK(p["requests"] == 8);
    if (mode == "prefill_only") {
      CHECK(p["tpot_ms"]["p99"] == 0.0);
      CHECK(p["e2e_ms"]["p50"] == p["ttft_ms"]["p50"]);
    } else {
      // No prompt to process: the first token is one decode step, far below a 1024-token prefill.
      CHECK(p["ttft_ms"]["p50"].get<double>() < 100);
      CHECK(p["tpot_ms"]["p50"].get<double>() > 0);
    }
  }
}

TEST_CASE("host overhead adds to every iteration and to no kernel's share") {
  testing::TempDir dir("serve-host");
  std::vector<nlohmann::json> runs;
  for (const std::string overhead : {"0", "2000"}) {
    const auto r =
        cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
             (dir.path / overhead).string(), "--set", "serving.requests.count=4", "--set",
             "serving.mode=prefill_only", "--set", "serving.requests.rate_per_gpu=0.01", "--set",
             "serving.host_overhead_us_per_iteration=" + overhead, "--set",
             "workload.calibration_batches=5", "--set", R"(policies=["eplb"])"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    runs.push_back(nlohmann::json::parse(
        testing::read_file(dir.path / overhead / "summary.json"))["policies"][0]);
  }
  // Requests 25 s apart, one iteration each: TTFT grows by exactly 2 ms.
  CHECK(runs[1]["iterations"] == 4);
  CHECK(runs[1]["host_overhead_s"].get<double>() == doctest::Approx(4 * 2e-3));
  CHECK(runs[1]["ttft_ms"]["p50"].get<double>() ==
        doctest::Approx(runs[0]["ttft_ms"]["p50"].get<double>() + 2.0).epsilon(1e-6));
  CHECK(runs[1]["time_share"] == runs[0]["time_share"]);
}

TEST_CASE("--requests replays a trace and rejects a bad one with status 2 and no output") {
  testing::TempDir dir("serve-trace");
  const auto good = dir.write("r.jsonl",
                              "{\"timestamp\": 0, \"input_length\": 100, \"output_length\": 4}\n"
                              "{\"timestamp\": 50, \"input_length\": 300, \"output_length\": 2}\n");
  const auto ok = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                       (dir.path / "ok").string(), "--requests", good.string(), "--set",
                       "workload.calibration_batches=5", "--set", R"(policies=["static"])"});
  INFO(ok.err);
  REQUIRE(ok.status == 0);
  const auto csv = testing::read_file(dir.path / "ok" / "requests.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);
  // A request asking for no output runs its prefill and is written with 0 output tokens.
  const auto zero =
      dir.write("zero.jsonl", "{\"timestamp\": 0, \"input_length\": 100, \"output_length\": 0}\n");
  const auto z = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                      (dir.path / "zero").string(), "--requests", zero.string(), "--set",
                      "workload.calibration_batches=5", "--set", R"(policies=["static"])"});
  REQUIRE(z.status == 0);
  const auto zero_csv = testing::read_file(dir.path / "zero" / "requests.csv");
  CHECK(zero_csv.find("\nstatic,0,0.000,100,0,") != std::string::npos);
  const auto bad = dir.write("bad.jsonl",
                             "{\"timestamp\": 9, \"input_length\": 100, \"output_length\": 4}\n"
                             "{\"timestamp\": 5, \"input_length\": 300, \"output_length\": 2}\n");
  const auto e = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                      (dir.path / "bad").string(), "--requests", bad.string()});
  CHECK(e.status == 2);
  CHECK(e.err.find("bad.jsonl:2: timestamp goes back in time") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "bad"));
  const auto missing = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                            (dir.path / "m").string(), "--set",
                            R"(serving.requests={"source":"trace","path":"data:nope.csv"})"});
  CHECK(missing.status == 2);
  CHECK(missing.err.find("key 'serving.requests.path': file") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "m"));
  // Issue 16, bug 4: a request the KV cache cannot hold even alone is refused.
  const auto too_big = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--out",
                            (dir.path / "kv").string(), "--requests", good.string(), "--set",
                            "serving.kv_cache_tokens=200"});
  CHECK(too_big.status == 2);
  CHECK(too_big.err.find("request 1 needs 302 KV-cache tokens (prompt + output), more than the "
                         "cache holds (200") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "kv"));
  const auto layer_only = cli({"run", "--quiet", "--out", (dir.path / "x").string(), "--frontier"});
  CHECK(layer_only.status == 2);
  CHECK(layer_only.err.find("need a 'serving' section") != std::string::npos);
}

TEST_CASE("the Azure conversation trace reads whole") {
  const auto path =
      testing::data_dir() / "requests" / "azure-llm-2023" / "AzureLLMInferenceTrace_conv.csv";
  REQUIRE_MESSAGE(std::filesystem::exists(path), path.string(), " is missing: data/ ships it");
  const auto r = read_request_trace(path);
  CHECK(r.size() == 19366);
  CHECK((r.back().arrival - r.front().arrival).seconds() == doctest::Approx(3500).epsilon(0.05));
}

TEST_CASE("the SLO frontier brackets, then bisects, and its answer meets the target") {
  testing::TempDir dir("frontier");
  const auto r = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--frontier", "--out",
                      (dir.path / "f").string(), "--set", "serving.requests.count=40", "--set",
                      "workload.calibration_batches=3", "--set", R"(policies=["static"])", "--set",
                      R"(serving.frontier={"target":0.9,"min_rate_per_gpu":0.05,)"
                      R"("max_rate_per_gpu":200,"steps":4})"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(testing::read_file(dir.path / "f" / "summary.json"));
  const auto& point = j["frontier"]["points"][0];
  CHECK(point["runs"] == 6);  // the two ends, then 4 bisection steps
  const double rate = point["max_requests_per_s_per_gpu"];
  CHECK(rate > 0.05);
  CHECK(rate < 200);
  CHECK(point["attainment_at_max"].get<double>() >= 0.9);

  // A lower end that already misses the target: no rate qualifies, one run.
  const auto none = cli({"run", experiment("paper-dsv3-sonnet.json"), "--quiet", "--frontier",
                         "--out", (dir.path / "g").string(), "--set", "serving.requests.count=40",
                         "--set", "workload.calibration_batches=3", "--set",
                         R"(policies=["static"])", "--set", "serving.slo.ttft_ms=0.001"});
  REQUIRE(none.status == 0);
  const auto k = nlohmann::json::parse(testing::read_file(dir.path / "g" / "summary.json"));
  CHECK(k["frontier"]["points"][0]["runs"] == 1);
  CHECK(k["frontier"]["points"][0]["max_requests_per_s_per_gpu"] == 0.0);
}

#ifdef VIBESIM_HAVE_CBC
TEST_CASE("a serving run's and a frontier's checkpoint reaches optimal between its layers") {
  const auto locations = ConfigLocations::from_environment();
  const PolicyRegistry registry = PolicyRegistry::builtin();
  // Polls per run: one per finished request, plus those of the policy (one per
  // layer `optimal` places, besides its latency_lpt starting point's).
  const auto polls = [&](const std::string& policy, bool frontier) {
    const auto x = load_experiment(
        experiment("paper-dsv3-sonnet.json"),
        {R"(model="olmoe-1b-7b")", "policies=[\"" + policy + "\"]", "serving.requests.count=4",
         "serving.mode=prefill_only", "workload.calibration_batches=5",
         "serving.slo.ttft_ms=0.001"},  // the frontier's first rate misses: one trial run
        locations, registry);
    int calls = 0;
    const auto observe = ServingObservers::polling([&calls] { ++calls; });
    if (frontier) {
      CHECK(slo_frontier(x, registry, observe).front().runs == 1);
    } else {
      (void)run_serving(x, registry, experiment_requests(x), observe);
    }
    return calls;
  };
  for (const bool frontier : {false, true}) {
    CAPTURE(frontier);
    CHECK(polls("eplb", frontier) == 4);
    const int lpt = polls("latency_lpt", frontier);
    CHECK(lpt >= 4 + 16);                           // OLMoE has 16 MoE layers
    CHECK(polls("optimal", frontier) == lpt + 16);  // and optimal polls before each
  }
}
#endif
