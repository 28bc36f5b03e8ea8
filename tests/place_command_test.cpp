// `vibesim place`: recorded loads in, an SGLang expert-location file out.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "io/atomic_file.h"
#include "tools/cli.h"

using namespace vibesim;
using testing::cli;

namespace {

constexpr const char* kEplbReadmeLoads =
    R"({"logical_count": [[90,132,40,61,104,165,39,4,73,56,183,86],
                          [20,107,104,64,19,197,187,157,172,86,16,27]]})";

}  // namespace

TEST_CASE("vibesim place reproduces the EPLB README answer; SGLang's file holds its one key") {
  testing::TempDir dir("place-readme");
  const auto loads = dir.write("loads.json", kEplbReadmeLoads);
  const auto out = dir.path / "placement.json";
  const auto r = cli({"place", "--policy", "eplb", "--loads", loads.string(), "--gpus", "8",
                      "--replicas", "16", "--groups", "4", "--nodes", "2", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto sglang = nlohmann::json::parse(testing::read_file(out));
  // SGLang's contract: every top-level key becomes a keyword argument of
  // ExpertLocationMetadata.init_by_mapping, which takes physical_to_logical_map
  // (layers x slots of logical ids) and nothing else.
  REQUIRE(sglang.is_object());
  CHECK(sglang.size() == 1);
  CHECK(sglang["physical_to_logical_map"] ==
        nlohmann::json::parse("[[5,6,5,7,8,4,3,4,10,9,10,2,0,1,11,1],"
                              "[7,10,6,8,6,11,8,9,2,4,5,1,5,0,3,1]]"));
  const auto j = nlohmann::json::parse(testing::read_file(dir.path / "placement.report.json"));
  // Expert 5 of layer 0 holds slots 0 and 2; expert 0 one slot, padded with -1.
  CHECK(j["log2phy"][0][5] == nlohmann::json::parse("[0,2]"));
  CHECK(j["log2phy"][0][0] == nlohmann::json::parse("[12,-1]"));
  CHECK(j["logcnt"][0][5] == 2);
  // GPU 0 of layer 0 holds slots 0 and 1: half of expert 5 (165 / 2 replicas) and expert 6 (39).
  CHECK(j["gpu_load"][0][0].get<double>() == doctest::Approx(121.5));
  CHECK(j["predicted_latency"][0][0].get<double>() == doctest::Approx(121.5));  // speed 1

  SUBCASE("same input, same bytes; stdout without -o") {
    const auto again = cli({"place", "--policy", "eplb", "--loads", loads.string(), "--gpus", "8",
                            "--replicas", "16", "--groups", "4", "--nodes", "2"});
    REQUIRE(again.status == 0);
    CHECK(again.out == testing::read_file(out));
    CHECK(nlohmann::json::parse(again.out).size() == 1);
  }
}

TEST_CASE("vibesim place uses GPU speeds and reads the CSV form") {
  testing::TempDir dir("place-speeds");
  const auto loads = dir.write("loads.csv", "layer,expert,count\n0,0,60\n0,1,30\n0,2,20\n0,3,10\n");
  const auto report = dir.path / "report.json";
  const auto r = cli({"place", "--policy", "vibe", "--loads", loads.string(), "--gpus", "2",
                      "--gpu-speeds", "2,1", "--report", report.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(r.out)["physical_to_logical_map"][0] ==
        nlohmann::json::parse("[0,2,1,3]"));
  const auto j = nlohmann::json::parse(testing::read_file(report));
  // Targets 80 and 40 tokens: 60 and 20 on the fast GPU 0, 30 and 10 on GPU 1.
  CHECK(j["predicted_latency"][0][0].get<double>() == doctest::Approx(40.0));
  CHECK(j["predicted_latency"][0][1].get<double>() == doctest::Approx(40.0));
}

TEST_CASE("vibesim place reports speed-aware token shares beside SGLang's file") {
  testing::TempDir dir("place-shares");
  const auto loads = dir.write("loads.csv", "layer,expert,count\n0,0,90\n0,1,30\n0,2,20\n0,3,10\n");
  const auto out = dir.path / "placement.json";
  const auto r = cli({"place", "--policy", "latency_lpt_shares", "--loads", loads.string(),
                      "--gpus", "2", "--replicas", "6", "--gpu-speeds", "2,1", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(testing::read_file(out)).size() == 1);
  const auto j = nlohmann::json::parse(testing::read_file(dir.path / "placement.report.json"));
  // Experts 0 and 1 get the two redundant slots, one replica on each GPU; their
  // shares then reach the fluid bound: 150 tokens over 3 tokens per unit time,
  // 100 on the fast GPU and 50 on the slow one, both finishing at 50.
  REQUIRE(j["replica_share"][0].size() == 6);
  CHECK(j["gpu_load"][0][0].get<double>() == doctest::Approx(100).epsilon(1e-6));
  CHECK(j["gpu_load"][0][1].get<double>() == doctest::Approx(50).epsilon(1e-6));
  CHECK(j["predicted_latency"][0][0].get<double>() == doctest::Approx(50).epsilon(1e-6));
  CHECK(j["predicted_latency"][0][1].get<double>() == doctest::Approx(50).epsilon(1e-6));
}

TEST_CASE("vibesim place rejects bad loads and options with status 2 and writes nothing") {
  testing::TempDir dir("place-bad");
  const auto good = dir.write("good.json", kEplbReadmeLoads);
  const auto out = dir.path / "out.json";
  const auto expect_error = [&](std::vector<std::string> args, const std::string& expected) {
    std::vector<std::string> full{"place", "-o", out.string()};
    full.insert(full.end(), args.begin(), args.end());
    const auto r = cli(full);
    INFO("stderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  };
  struct BadLoads {
    const char* file;
    const char* text;
    const char* expected;
  };
  for (const auto& [file, text, expected] : std::vector<BadLoads>{
           {"neg.json", R"({"logical_count": [[1,-2]]})",
            "neg.json: key 'logical_count[0][1]': count must be in [0, 1e+15], got -2"},
           {"huge.json", R"({"logical_count": [[1.7e308, 1]]})",
            "huge.json: key 'logical_count[0][0]': count must be in [0, 1e+15]"},
           {"huge.csv", "layer,expert,count\n0,0,1.7e308\n0,1,1\n",
            "huge.csv:2: column 'count' must be a number in [0, 1e+15], got '1.7e308'"},
           {"sum.csv", "layer,expert,count\n0,0,9e14\n0,1,1\n0,0,9e14\n",
            "sum.csv:4: the rows for layer 0, expert 0 sum past 1e+15"},
           {"nan.csv", "layer,expert,count\n0,0,5\n0,1,nan\n", "nan.csv:3: column 'count'"},
           {"ragged.json", R"({"logical_count": [[1,2],[1,2,3]]})",
            "ragged.json: key 'logical_count[1]': has 3 experts"},
           {"far.csv", "layer,expert,count\n0,100000000,1\n",
            "far.csv:2: column 'expert' is not an id in [0, 65536)"},
           {"wide.csv", "layer,expert,count\n9999,0,1\n0,60000,1\n",
            "wide.csv:3: layer 0 and expert 60000 would make a load matrix of more than"}})
    expect_error({"--policy", "eplb", "--gpus", "2", "--loads", dir.write(file, text).string()},
                 expected);
  expect_error({"--policy", "vibe", "--gpus", "8", "--loads", good.string()},
               "12 experts per layer are not divisible by --gpus 8");
  expect_error({"--policy", "eplb", "--gpus", "4", "--replicas", "10", "--loads", good.string()},
               "--replicas: 10 is fewer than the 12 experts");
  expect_error({"--policy", "eplb", "--gpus", "4", "--replicas", "14", "--loads", good.string()},
               "--replicas: 14 is not divisible by --gpus 4");
  expect_error({"--policy", "vibe", "--gpus", "4", "--gpu-speeds", "1,2", "--loads", good.string()},
               "--gpu-speeds: 2 values given, --gpus is 4");
  expect_error({"--policy", "nope", "--gpus", "4", "--loads", good.string()},
               "unknown policy 'nope'");
  for (const char* limit : {"0", "-1", "nan"})
    expect_error(
        {"--policy", "eplb", "--gpus", "4", "--time-limit", limit, "--loads", good.string()},
        "--time-limit: must be in (0, 1e6] seconds");
  expect_error({"--policy", "vibe", "--gpus", "4", "--loads", (dir.path / "missing.json").string()},
               "missing.json: cannot open");
}

#ifdef VIBESIM_HAVE_CBC
TEST_CASE("vibesim place reports optimal's proven gap per layer and the layers its limit stopped") {
  testing::TempDir dir("place-proof");
  const auto loads = dir.write("loads.json", kEplbReadmeLoads);
  const auto out = dir.path / "placement.json";
  const auto r = cli({"place", "--policy", "optimal", "--loads", loads.string(), "--gpus", "4",
                      "--gpu-speeds", "1,1.1,0.9,1.05", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(testing::read_file(dir.path / "placement.report.json"));
  REQUIRE(j["proven_gap"].size() == 2);
  for (const auto& gap : j["proven_gap"]) {
    CHECK(gap.get<double>() >= 0);
    CHECK(gap.get<double>() <= 1e-3 + 1e-12);  // within its 0.1 % target: no limit was hit
  }
  CHECK(j["stopped_at_limit"].empty());
  CHECK(r.err.find("optimal: largest proven gap to the optimum") != std::string::npos);
  CHECK(r.err.find("no layer hit the 30 s limit") != std::string::npos);
  // Policies that prove nothing add neither key.
  REQUIRE(cli({"place", "--policy", "eplb", "--loads", loads.string(), "--gpus", "4", "-o",
               out.string()})
              .status == 0);
  CHECK_FALSE(nlohmann::json::parse(testing::read_file(dir.path / "placement.report.json"))
                  .contains("proven_gap"));
}
#endif

TEST_CASE("vibesim place reads the GPU profile that vibesim run writes") {
  testing::TempDir dir("place-profile");
  const auto profile = dir.write("profile.json",
                                 R"({"gpu_latency": [{"tokens": [0, 100], "latency_ns": [0, 100]},
                          {"tokens": [0, 100], "latency_ns": [0, 200]}]})");
  const auto loads = dir.write("loads.json", R"({"logical_count": [[40, 30, 20, 10]]})");
  const auto report = dir.path / "report.json";
  const auto r = cli({"place", "--policy", "latency_lpt", "--loads", loads.string(), "--gpus", "2",
                      "--profile", profile.string(), "--report", report.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(testing::read_file(report));
  // Best split of 100 tokens with GPU 1 half as fast: 70 | 30 -> 70 ns and 60 ns.
  CHECK(j["gpu_load"][0] == nlohmann::json::parse("[70.0,30.0]"));
  CHECK(j["predicted_latency_unit"] == "ns");
  const auto bad =
      dir.write("bad.json", R"({"gpu_latency": [{"tokens": [0, 0], "latency_ns": [0, 1]}]})");
  const auto e = cli({"place", "--policy", "vibe", "--loads", loads.string(), "--gpus", "2",
                      "--profile", bad.string()});
  CHECK(e.status == 2);
  CHECK(e.err.find("bad.json: key 'gpu_latency[0].tokens': must increase strictly") !=
        std::string::npos);
}

TEST_CASE("vibesim place refuses more slots than the experts can fill (issue 16, bug 1)") {
  testing::TempDir dir("place-slots");
  std::string csv = "layer,expert,count\n";
  for (int e = 0; e < 16; ++e)
    csv += "0," + std::to_string(e) + "," + std::to_string(10 * (e + 1)) + "\n";
  const auto loads = dir.write("loads.csv", csv);
  for (const std::string replicas : {"34", "2000000000"}) {
    const auto r = cli({"place", "--policy", "latency_lpt", "--loads", loads.string(), "--gpus",
                        "2", "--replicas", replicas, "--gpu-speeds", "1,1.1", "-o",
                        (dir.path / "p.json").string()});
    CHECK(r.status == 2);
    CHECK(r.err.find("would put more than the 16 experts") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path / "p.json"));
  }
}

TEST_CASE("load CSVs may start with a byte-order mark and quote their fields") {
  testing::TempDir dir("place-csv-forms");
  const auto bom = dir.write("bom.csv", "\xEF\xBB\xBFlayer,expert,count\n0,0,5\n0,1,3\n");
  const auto quoted =
      dir.write("q.csv", "\"layer\",\"expert\",\"count\"\n\"0\",\"0\",\"5\"\n0,1,3\n");
  for (const auto& loads : {bom, quoted}) {
    const auto r = cli({"place", "--policy", "static", "--gpus", "2", "--loads", loads.string()});
    INFO(r.err);
    CHECK(r.status == 0);
  }
  const auto open = dir.write("open.csv", "layer,expert,count\n\"0,0,5\n");
  const auto r = cli({"place", "--policy", "static", "--gpus", "2", "--loads", open.string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("open.csv:2: a quoted field is not closed") != std::string::npos);
}

TEST_CASE(
    "vibesim place --current refines the placement in force and keeps staying experts in "
    "their slots") {
  testing::TempDir dir("place-current");
  const auto before_loads =
      dir.write("before.csv", "layer,expert,count\n0,0,80\n0,1,10\n0,2,40\n0,3,30\n");
  const auto after_loads =
      dir.write("after.csv", "layer,expert,count\n0,0,10\n0,1,80\n0,2,30\n0,3,40\n");
  const auto first = dir.path / "first.json";
  REQUIRE(cli({"place", "--policy", "latency_lpt", "--loads", before_loads.string(), "--gpus", "2",
               "-o", first.string()})
              .status == 0);
  const auto second = dir.path / "second.json";
  const auto r = cli({"place", "--policy", "eplb", "--loads", after_loads.string(), "--gpus", "2",
                      "--current", first.string(), "-o", second.string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto old_map = nlohmann::json::parse(testing::read_file(first))["physical_to_logical_map"];
  const auto new_map = nlohmann::json::parse(testing::read_file(second))["physical_to_logical_map"];
  // Every expert on the same GPU before and after sits in the same slot.
  int changed = 0;
  for (int s = 0; s < 4; ++s) {
    const int expert = new_map[0][s];
    const int gpu = s / 2;
    for (int t = gpu * 2; t < gpu * 2 + 2; ++t)
      if (old_map[0][t] == expert) CHECK(t == s);
    changed += old_map[0][s] != new_map[0][s] ? 1 : 0;
  }
  const auto report = nlohmann::json::parse(testing::read_file(dir.path / "second.report.json"));
  CHECK(report["slots_changed"] == changed);

  SUBCASE("a file that does not fit is refused, naming it") {
    const auto wrong = dir.write("wrong.json", R"({"physical_to_logical_map": [[0, 1, 2, 2]]})");
    const auto bad = cli({"place", "--policy", "eplb", "--loads", after_loads.string(), "--gpus",
                          "2", "--current", wrong.string(), "-o", (dir.path / "x.json").string()});
    CHECK(bad.status == 2);
    CHECK(bad.err.find("wrong.json") != std::string::npos);
    CHECK(bad.err.find("expert 3 has no slot") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path / "x.json"));
  }
}

TEST_CASE(
    "place into a stream (a FIFO, /dev/stdout): data only there, summary on stderr, no report") {
  testing::TempDir dir("place-stream");
  const auto fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // so a write cannot block
  REQUIRE(reader >= 0);
  const auto loads = dir.write("loads.json", kEplbReadmeLoads);
  const auto r = cli(
      {"place", "--policy", "eplb", "--gpus", "4", "--loads", loads.string(), "-o", fifo.string()});
  std::string data(1 << 16, '\0');
  const auto got = ::read(reader, data.data(), data.size());
  ::close(reader);
  REQUIRE(r.status == 0);
  data.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  CHECK(nlohmann::json::parse(data).contains("physical_to_logical_map"));
  CHECK(r.out.empty());
  CHECK(r.err.find("fifo: 2 layers, 4 GPUs x 3 slots (eplb)") != std::string::npos);
  CHECK(r.err.find("report in") == std::string::npos);
  CHECK(testing::names_in(dir.path) == std::vector<std::string>{"fifo", "loads.json"});
  CHECK(is_stream_output("/dev/stdout"));
  CHECK(is_stream_output("/proc/self/fd/1"));
}
