// End-to-end: the vibesim command line, driven in-process.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "fixtures.h"
#include "models/latency_curve.h"
#include "policies/placement_policy.h"
#include "policies/policy_registry.h"
#include "tools/cli.h"

using namespace vibesim;
using testing::cli;

namespace {

// The quickstart, shortened so a test runs in well under a second.
std::vector<std::string> short_quickstart(const std::filesystem::path& out_dir) {
  return {"run",   "--quiet",
          "--out", out_dir.string(),
          "--set", "workload.iterations=2",
          "--set", "workload.calibration_batches=5"};
}

std::size_t entries(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

// Runs `args` expecting bad input: status 2, one line naming `expected`, and nothing written under
// `dir`.
void check_bad_input(const testing::TempDir& dir, std::vector<std::string> args,
                     const std::string& expected) {
  const auto before = entries(dir.path);
  const auto r = cli(std::move(args));
  INFO("stderr: ", r.err);
  CHECK(r.status == 2);
  CHECK(r.err.find(expected) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(dir.path / "out"));
  CHECK(entries(dir.path) == before);  // no staging folder left behind
}

}  // namespace

TEST_CASE("vibesim run writes summary.json and layers.csv and config.resolved.json") {
  testing::TempDir dir("cli-run");
  auto args = short_quickstart(dir.path / "out");
  args.erase(args.begin() + 1);  // not quiet: tables on stdout
  const auto r = cli(args);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("p90 us") != std::string::npos);
  CHECK(r.out.find("straggler histogram") != std::string::npos);
  CHECK(r.out.find("run directory: " + (dir.path / "out").string()) != std::string::npos);
  const auto summary = nlohmann::json::parse(testing::read_file(dir.path / "out" / "summary.json"));
  REQUIRE(summary["policies"].size() == PolicyRegistry::builtin().default_study_names().size());
  CHECK(summary["policies"][0]["policy"] == "static");
  CHECK(summary["policies"][0]["layer_steps"] == 2 * 58);
  CHECK(summary["gpus"].size() == 8);
  const auto layers = testing::read_file(dir.path / "out" / "layers.csv");
  CHECK(std::count(layers.begin(), layers.end(), '\n') ==
        static_cast<std::ptrdiff_t>(1 + PolicyRegistry::builtin().default_study_names().size() * 2 *
                                            58));
  const auto resolved =
      nlohmann::json::parse(testing::read_file(dir.path / "out" / "config.resolved.json"));
  CHECK(resolved["workload"]["iterations"] == 2);
  CHECK(resolved["model"]["routed_experts"] == 256);
}

#ifdef VIBESIM_HAVE_CBC
TEST_CASE("a run with optimal reports its proven gap per layer; other policies report none") {
  testing::TempDir dir("cli-proofs");
  auto args = short_quickstart(dir.path / "out");
  args.erase(args.begin() + 1);  // not quiet: the proof line on stdout
  for (const char* extra :
       {"--set", R"(model="olmoe-1b-7b")", "--set", R"(policies=["eplb","optimal"])"})
    args.emplace_back(extra);
  const auto r = cli(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("optimal: placement proven within") != std::string::npos);
  const auto summary = nlohmann::json::parse(testing::read_file(dir.path / "out" / "summary.json"));
  CHECK_FALSE(summary["policies"][0].contains("proofs"));
  const auto& proofs = summary["policies"][1]["proofs"];
  REQUIRE(proofs["proven_gap"].size() == 16);  // OLMoE's MoE layers
  for (const auto& gap : proofs["proven_gap"]) CHECK(gap.get<double>() <= 1e-3 + 1e-12);
  CHECK(proofs["stopped_at_limit"].empty());
}

TEST_CASE(
    "a serving run with optimal reports its proofs; placement.search_seconds_per_layer is read") {
  testing::TempDir dir("cli-serving-proofs");
  const auto r =
      cli({"run", (testing::config_dir() / "experiments" / "paper-dsv3-sonnet.json").string(),
           "--out", (dir.path / "out").string(), "--set", R"(model="olmoe-1b-7b")", "--set",
           R"(policies=["eplb","optimal"])", "--set", "serving.requests.count=4", "--set",
           "serving.mode=prefill_only", "--set", "workload.calibration_batches=5", "--set",
           "placement.search_seconds_per_layer=5"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("optimal: placement proven within") != std::string::npos);
  const auto summary = nlohmann::json::parse(testing::read_file(dir.path / "out" / "summary.json"));
  CHECK_FALSE(summary["policies"][0].contains("proofs"));
  CHECK(summary["policies"][1]["proofs"]["proven_gap"].size() == 16);
  const auto resolved =
      nlohmann::json::parse(testing::read_file(dir.path / "out" / "config.resolved.json"));
  CHECK(resolved["placement"]["search_seconds_per_layer"] == 5.0);
}
#endif

TEST_CASE(
    "same config and seed give byte-identical summary.json and layers.csv and another seed "
    "differs") {
  testing::TempDir dir("cli-determinism");
  REQUIRE(cli(short_quickstart(dir.path / "a")).status == 0);
  REQUIRE(cli(short_quickstart(dir.path / "b")).status == 0);
  auto other = short_quickstart(dir.path / "c");
  other.insert(other.end(), {"--set", "seed=2"});
  REQUIRE(cli(other).status == 0);
  for (const char* file : {"summary.json", "layers.csv"}) {
    CHECK(testing::read_file(dir.path / "a" / file) == testing::read_file(dir.path / "b" / file));
    CHECK(testing::read_file(dir.path / "a" / file) != testing::read_file(dir.path / "c" / file));
  }
}

TEST_CASE(
    "bad input gets one line naming the file and key and exit status 2 and leaves no output") {
  testing::TempDir dir("cli-bad");
  const auto out = dir.path / "out";
  SUBCASE("unknown key") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "workload.bogus=1"});
    check_bad_input(dir, args, "quickstart.json: key 'workload.bogus': unknown key");
  }
  SUBCASE("a search limit of zero") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "placement.search_seconds_per_layer=0"});
    check_bad_input(
        dir, args,
        "quickstart.json: key 'placement.search_seconds_per_layer': must be in (0, 1e6]");
  }
  SUBCASE("a negative search limit") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "placement.search_seconds_per_layer=-1"});
    check_bad_input(
        dir, args, "key 'placement.search_seconds_per_layer': must be in (0, 1e6] seconds, got -1");
  }
  SUBCASE("wrong type") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "workload.batch_tokens=lots"});
    check_bad_input(
        dir, args, "quickstart.json: key 'workload.batch_tokens': expected an integer, got string");
  }
  SUBCASE("out-of-range value") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "cluster.num_gpus=0"});
    check_bad_input(dir, args, "key 'cluster.num_gpus': value 0 is out of range [1, 4096]");
  }
  SUBCASE("experts not divisible by GPUs") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "cluster.num_gpus=6"});
    check_bad_input(
        dir, args,
        "key 'cluster.num_gpus': 6 GPUs do not divide the 256 routed experts of deepseek-v3");
  }
  SUBCASE("unknown model name lists the valid ones") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "model=gpt-5"});
    check_bad_input(dir, args,
                    "key 'model': unknown name 'gpt-5'; valid values are: deepseek-v3, "
                    "flame-moe-290m, mixtral-8x7b");
  }
  SUBCASE("unknown policy lists the valid ones") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", R"(policies=["static","magic"])"});
    check_bad_input(
        dir, args,
        "key 'policies[1]': unknown policy 'magic'; valid values are: static, round_robin, eplb");
  }
  SUBCASE("more redundant slots than experts can fill (issue 16, bug 1)") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "cluster.redundant_slots_per_gpu=250"});
    check_bad_input(dir, args,
                    "key 'cluster.redundant_slots_per_gpu': value 250 is out of range [0, 224]");
  }
  SUBCASE("a policy listed twice") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", R"(policies=["static","static"])"});
    check_bad_input(dir, args, "key 'policies[1]': policy 'static' is listed twice");
  }
  SUBCASE("an experiment name that would write outside runs/") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "name=../escape"});
    check_bad_input(dir, args, "key 'name': must be a non-empty name without '/'");
  }
  SUBCASE("a data: path to a file that is not there") {
    auto args = short_quickstart(out);
    args.insert(args.end(),
                {"--set", R"(workload.routing={"source":"count_trace","path":"data:nope.csv"})"});
    check_bad_input(dir, args, "key 'workload.routing.path': file '");
  }
  SUBCASE("missing experiment file") {
    check_bad_input(dir, {"run", "--out", out.string(), (dir.path / "nope.json").string()},
                    "nope.json: cannot open file");
  }
  SUBCASE("a number JSON cannot hold is bad input, not an internal error") {
    const auto bad = dir.write("big.json", "{\"name\": \"x\", \"seed\": 1e400}\n");
    check_bad_input(dir, {"run", "--out", out.string(), bad.string()},
                    "big.json: number overflow parsing '1e400'");
  }
  SUBCASE("an unsigned number past the int64 range is out of range, not -1") {
    auto args = short_quickstart(out);
    args.insert(args.end(), {"--set", "seed=18446744073709551615"});
    check_bad_input(dir, args, "key 'seed': value 18446744073709551615 is out of range");
  }
  SUBCASE("--frontier with a replayed trace is refused (its arrivals are fixed)") {
    check_bad_input(dir,
                    {"run", "--out", out.string(), "--frontier",
                     (testing::config_dir() / "experiments" / "azure-code-replay.json").string()},
                    "--frontier varies the request rate, so it needs generated requests");
  }
  SUBCASE("profile check with GPUs that do not divide the experts") {
    check_bad_input(dir, {"profile", "check", "mi325x", "--gpus", "300"},
                    "--gpus: 300 GPUs do not divide the 256 routed experts");
  }
  SUBCASE("malformed JSON names the line") {
    const auto bad = dir.write("bad.json", "{\n  \"name\": \"x\",\n  oops\n}\n");
    check_bad_input(dir, {"run", "--out", out.string(), bad.string()},
                    "bad.json: parse error at line 3");
  }
  SUBCASE("routing CSV with an expert id out of range names the line") {
    dir.write("trace.csv", "step,layer,expert,count\n0,0,3,10\n0,0,256,10\n");
    const auto experiment = dir.write("x.json", R"({"name": "x", "model": "deepseek-v3",
      "cluster": {"gpu": "mi325x", "num_gpus": 8},
      "workload": {"batch_tokens": 64, "iterations": 1, "calibration_batches": 1,
                   "routing": {"source": "count_trace", "path": "trace.csv"}}})");
    check_bad_input(dir, {"run", "--out", out.string(), experiment.string()},
                    "trace.csv:3: expert id 256 is out of range [0, 256)");
  }
}

TEST_CASE("vibesim list names the models, GPUs, profiles, experiments and policies") {
  const auto r = cli({"list"});
  REQUIRE(r.status == 0);
  for (const char* name :
       {"deepseek-v3", "qwen3-235b-a22b", "mixtral-8x7b", "olmoe-1b-7b", "mi325x", "mi300x", "h100",
        "h200", "mi325x/default", "static", "round_robin", "paper-dsv3-drift-to-sonnet"})
    CHECK(r.out.find(name) != std::string::npos);
}

TEST_CASE("unknown commands and options are usage errors with status 2") {
  CHECK(cli({"frobnicate"}).status == 2);
  CHECK(cli({"run", "--no-such-option"}).status == 2);
  CHECK(cli({}).status == 2);
  CHECK(cli({"--help"}).status == 0);
}

TEST_CASE("a drifting workload with the drift controller re-places and reports experts moved") {
  testing::TempDir dir("cli-drift");
  const auto r =
      cli({"run", (testing::config_dir() / "experiments" / "drift.json").string(), "--quiet",
           "--out", (dir.path / "run").string(), "--set", "workload.iterations=40", "--set",
           "workload.routing.drift_at_iterations=[10]", "--set", "workload.calibration_batches=5",
           "--set", "recalibration.window=10", "--set", "policies=[\"static\",\"vibe\"]"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto summary = nlohmann::json::parse(testing::read_file(dir.path / "run" / "summary.json"));
  const auto& vibe = summary["policies"][1];
  CHECK(vibe["policy"] == "vibe");
  CHECK(vibe["recalibrations"].get<int>() >= 1);
  CHECK(vibe["experts_moved"].get<int>() > 0);
  CHECK(vibe["migration_stall_ms"].get<double>() > 0);
  CHECK(summary["policies"][0]["experts_moved"] == 0);  // static re-places to the same layout
}

TEST_CASE("a stop signal ends a run at the next step: 128 + signal, nothing left behind") {
  testing::TempDir dir("cli-stop");
  for (const int signal : {SIGINT, SIGTERM}) {
    volatile std::sig_atomic_t stop = signal;
    std::ostringstream out, err;
    const int status = run_cli(short_quickstart(dir.path / "run"), out, err, &stop);
    CHECK(status == 128 + signal);
    CHECK(err.str().find("stopped by signal") != std::string::npos);
    CHECK(entries(dir.path) == 0);  // neither the run nor its staging folder
  }
}

TEST_CASE("an experiment may be given by the name of a shipped one, as a sweep's base") {
  testing::TempDir dir("cli-by-name");
  const auto r = testing::cli({"run", "quickstart", "--quiet", "--out", (dir.path / "q").string(),
                               "--set", "workload.iterations=2"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto config =
      nlohmann::json::parse(testing::read_file(dir.path / "q" / "config.resolved.json"));
  CHECK(config["name"] == "quickstart");
}

TEST_CASE("a stop signal ends a placement between layers and inside a layer's search") {
  testing::TempDir dir("place-stop");
  std::string loads = "layer,expert,count\n";
  for (int e = 0; e < 64; ++e) loads += fmt::format("0,{},{}\n", e, 1 + e % 7);
  const auto file = dir.write("l.csv", loads);
  // `place` never polled the signal: latency_lpt on 4,096 GPUs ran 10 minutes past SIGTERM.
  for (const char* policy : {"latency_lpt", "vibe", "flashlb", "latency_lpt_shares"}) {
    CAPTURE(policy);
    volatile std::sig_atomic_t stop = SIGTERM;
    std::ostringstream out, err;
    const int status = run_cli({"place", "--policy", policy, "--loads", file.string(), "--gpus",
                                "8", "-o", (dir.path / "p.json").string()},
                               out, err, &stop);
    CHECK(status == 128 + SIGTERM);
    CHECK_FALSE(std::filesystem::exists(dir.path / "p.json"));
  }
  // Within one layer: latency_lpt's packing and swap search poll it too.
  PlacementContext c;
  c.num_experts = 1024;
  c.num_gpus = 64;
  c.max_slots_per_gpu = 16;
  c.expert_loads = {std::vector<double>(1024)};
  for (std::size_t e = 0; e < 1024; ++e) c.expert_loads[0][e] = 1.0 + static_cast<double>(e % 13);
  c.gpu_latency.assign(64, LatencyCurve::proportional(1.0));
  int calls = 0;
  c.checkpoint = [&calls] { ++calls; };
  (void)PolicyRegistry::builtin().make("latency_lpt")->place(c);
  CHECK(calls > 4);  // once for the layer, every 256 of its 1,024 items, every 16 swap rounds
}

TEST_CASE("main's stop handler records the first signal and leaves the second to end the process") {
  struct sigaction before_int {
  }, before_term{};  // doctest's own handlers, restored below
  sigaction(SIGINT, nullptr, &before_int);
  sigaction(SIGTERM, nullptr, &before_term);
  for (const int signal : {SIGINT, SIGTERM}) {
    const auto* stop = vibesim::install_stop_signal_handlers();
    CHECK(*stop == 0);  // installing clears the flag
    std::raise(signal);
    CHECK(*stop == signal);
    struct sigaction now {};
    sigaction(signal, nullptr, &now);
    const bool default_action = now.sa_handler == SIG_DFL;
    CHECK(default_action);  // a second signal is not caught: it ends the process
  }
  CHECK(*vibesim::install_stop_signal_handlers() == 0);
  sigaction(SIGINT, &before_int, nullptr);
  sigaction(SIGTERM, &before_term, nullptr);
}

TEST_CASE("--routing drives a run from a trace and the resolved config records it") {
  testing::TempDir dir("cli-routing");
  const auto trace = testing::data_dir() / "routing" / "flame-moe-290m" /
                     "flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv";
  const auto r = cli({"run", "--quiet", "--out", (dir.path / "run").string(), "--routing",
                      trace.string(), "--set", R"(model="flame-moe-290m")", "--set",
                      "workload.iterations=2", "--set", "workload.batch_tokens=256", "--set",
                      "workload.calibration_batches=2", "--set", R"(policies=["static","eplb"])"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j =
      nlohmann::json::parse(testing::read_file(dir.path / "run" / "config.resolved.json"));
  CHECK(j["workload"]["routing"]["source"] == "token_trace");
  CHECK(j["workload"]["routing"]["layer_mapping"] == "exact");
  // The DeepSeek quickstart routes top-8: a top-6 trace is refused, naming the file.
  const auto bad =
      cli({"run", "--quiet", "--out", (dir.path / "bad").string(), "--routing", trace.string()});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("the trace routes each token to 6 experts, the model to 8") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "bad"));
}
