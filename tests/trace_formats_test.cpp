// Routing trace formats: every format round-trips through the others, the
// binary format's header and records are checked, and bad files are refused
// naming the file and the record, line or key.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fixtures.h"
#include "io/config_error.h"
#include "traces/count_trace_routing.h"
#include "traces/token_trace_routing.h"
#include "traces/trace_format.h"

using namespace vibesim;

namespace {

const char* kTokenCsv =
    "layer,token_idx,e1,e2,s1,s2\n"
    "2,0,0,1,0.5,0.4\n2,1,1,2,0.5,0.4\n2,2,3,0,0.5,0.4\n"
    "5,0,2,3,0.5,0.4\n5,1,2,1,0.5,0.4\n";

std::filesystem::path flame_trace() {
  return testing::data_dir() / "routing" / "flame-moe-290m" /
         "flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv";
}

bool same_counts(const CountTrace& a, const CountTrace& b) {
  return a.layer_ids == b.layer_ids && a.steps == b.steps && a.num_experts == b.num_experts &&
         a.counts == b.counts;
}

}  // namespace

TEST_CASE("formats are detected from the content, whatever the extension") {
  testing::TempDir dir("trace-detect");
  CHECK(detect_trace_format(dir.write("a.txt", kTokenCsv)) == TraceFormat::kTokenCsv);
  CHECK(detect_trace_format(dir.write("b.txt", "step,layer,expert,count\n0,0,0,1\n")) ==
        TraceFormat::kCountCsv);
  CHECK(detect_trace_format(dir.write("c.txt", "layer,expert,count\n0,0,1\n")) ==
        TraceFormat::kLongCsv);
  CHECK(detect_trace_format(dir.write("d.txt", " {\"logical_count\": [[1, 2]]}")) ==
        TraceFormat::kSglangJson);
  CHECK_THROWS_WITH_AS(detect_trace_format(dir.write("e.txt", "a,b\n1,2\n")),
                       doctest::Contains("e.txt:1: not a routing trace"), InputError);
}

TEST_CASE("a per-token trace round-trips through binary and CSV unchanged") {
  testing::TempDir dir("trace-token-round-trip");
  const auto original = read_token_trace(flame_trace());
  write_routing_trace(original, dir.path / "f.vbt", TraceFormat::kBinary);
  const auto binary = read_token_trace(dir.path / "f.vbt");
  CHECK(binary.top_k == 6);
  CHECK(binary.layer_ids == original.layer_ids);
  CHECK(binary.experts == original.experts);
  write_routing_trace(binary, dir.path / "f.csv", TraceFormat::kTokenCsv);
  CHECK(read_token_trace(dir.path / "f.csv").experts == original.experts);
  // The binary file is 2 bytes per assignment plus headers.
  CHECK(std::filesystem::file_size(dir.path / "f.vbt") < 8 * 2048 * 6 * 2 + 200);
}

TEST_CASE("counts round-trip through count_csv, sglang_json and binary; long_csv sums steps") {
  testing::TempDir dir("trace-count-round-trip");
  const auto counts = count_tokens(read_token_trace(dir.write("t.csv", kTokenCsv)), 2);
  CHECK(counts.steps == 2);
  CHECK(counts.layer_ids == std::vector<std::int64_t>{2, 5});
  for (const auto format : {TraceFormat::kCountCsv, TraceFormat::kBinary}) {
    write_routing_trace(counts, dir.path / "c", format);
    CHECK(same_counts(read_count_trace(dir.path / "c"), counts));
  }
  // SGLang's JSON has no layer ids: layers are numbered from 0.
  write_routing_trace(counts, dir.path / "c.json", TraceFormat::kSglangJson);
  const auto json = read_count_trace(dir.path / "c.json");
  CHECK(json.layer_ids == std::vector<std::int64_t>{0, 1});
  CHECK(json.counts == counts.counts);
  write_routing_trace(counts, dir.path / "l.csv", TraceFormat::kLongCsv);
  const auto total = read_count_trace(dir.path / "l.csv");
  CHECK(total.steps == 1);
  const auto layer2 = total.at(0, 0);
  CHECK(std::vector<std::int32_t>(layer2.begin(), layer2.end()) ==
        std::vector<std::int32_t>{2, 2, 1, 1});
  // A per-token trace written to a count format is counted in steps.
  write_routing_trace(read_token_trace(dir.path / "t.csv"), dir.path / "t.json",
                      TraceFormat::kSglangJson, 2);
  CHECK(read_count_trace(dir.path / "t.json").counts == counts.counts);
  CHECK_THROWS_WITH_AS(write_routing_trace(counts, dir.path / "x.csv", TraceFormat::kTokenCsv),
                       doctest::Contains("per-step counts cannot be written as a per-token trace"),
                       InputError);
  CHECK_FALSE(std::filesystem::exists(dir.path / "x.csv"));
}

TEST_CASE("SGLang logical_count with and without a step dimension, and its errors") {
  testing::TempDir dir("trace-sglang");
  const auto one = read_count_trace(dir.write("a.json", R"({"logical_count": [[1,2,3],[4,5,6]]})"));
  CHECK(one.steps == 1);
  CHECK(one.num_experts == 3);
  CHECK(one.counts == std::vector<std::int32_t>{1, 2, 3, 4, 5, 6});
  const auto steps =
      read_count_trace(dir.write("b.json", R"({"logical_count": [[[1,2]],[[3,4]],[[5,6]]]})"));
  CHECK(steps.steps == 3);
  CHECK(steps.layer_ids.size() == 1);
  CHECK_THROWS_WITH_AS(
      read_count_trace(dir.write("c.json", R"({"logical_count": [[1,2],[3]]})")),
      doctest::Contains("c.json: logical_count[1]: 1 experts, the first row has 2"), InputError);
  CHECK_THROWS_WITH_AS(read_count_trace(dir.write("d.json", R"({"logical_count": [[1,"x"]]})")),
                       doctest::Contains("d.json: logical_count[0][1]: not a count"), InputError);
  CHECK_THROWS_WITH_AS(read_count_trace(dir.write("e.json", R"({"counts": []})")),
                       doctest::Contains("e.json: expected an object with the key 'logical_count'"),
                       InputError);
  CHECK_THROWS_WITH_AS(read_count_trace(dir.write("f.json", R"({"logical_count": [[1,2)")),
                       doctest::Contains("f.json: not valid JSON"), InputError);
}

TEST_CASE("binary traces: truncation, versions, ids and top-k are checked, naming the record") {
  testing::TempDir dir("trace-binary-bad");
  const auto csv = dir.write("t.csv", kTokenCsv);
  write_routing_trace(read_token_trace(csv), dir.path / "t.vbt", TraceFormat::kBinary);
  const auto good = testing::read_file(dir.path / "t.vbt");
  const auto variant = [&](const std::string& name, std::string bytes) {
    return dir.write(name, bytes);
  };
  // Header 32 bytes + 2 layer ids; record 0: layer 0, 3 tokens; record 1: layer 1, 2 tokens.
  CHECK_THROWS_WITH_AS(read_token_trace(variant("cut.vbt", good.substr(0, good.size() - 1))),
                       doctest::Contains("cut.vbt: record 1: truncated (2 tokens announced)"),
                       InputError);
  CHECK_THROWS_WITH_AS(read_token_trace(variant("head.vbt", good.substr(0, 20))),
                       doctest::Contains("head.vbt: not a vibesim binary trace"), InputError);
  auto v2 = good;
  v2[8] = 2;
  CHECK_THROWS_WITH_AS(read_token_trace(variant("v2.vbt", v2)),
                       doctest::Contains("v2.vbt: binary trace version 2; this vibesim reads "
                                         "version 1"),
                       InputError);
  auto bad_id = good;
  bad_id[32 + 16 + 8] = 9;  // the first expert id of record 0
  CHECK_THROWS_WITH_AS(read_token_trace(variant("id.vbt", bad_id)),
                       doctest::Contains("id.vbt: record 0: expert id 9 is out of range [0, 4)"),
                       InputError);
  auto repeated = good;
  repeated[32 + 16 + 8 + 2] = repeated[32 + 16 + 8];  // token 0: experts 0, 0
  CHECK_THROWS_WITH_AS(read_token_trace(variant("dup.vbt", repeated)),
                       doctest::Contains("dup.vbt: record 0: token 0: expert 0 appears twice"),
                       InputError);
  // A top-k mismatch with the model, and ids beyond the model's experts.
  CHECK_THROWS_WITH_AS(TokenTraceRouting(dir.path / "t.vbt", 2, 4, 3),
                       doctest::Contains("t.vbt: the trace routes each token to 2 experts, the "
                                         "model to 3"),
                       InputError);
  CHECK_THROWS_WITH_AS(TokenTraceRouting(dir.path / "t.vbt", 2, 3, 2),
                       doctest::Contains("t.vbt: record 0: expert id 3 is out of range [0, 3)"),
                       InputError);
  // A count trace cut mid-step.
  write_routing_trace(count_tokens(read_token_trace(csv), 2), dir.path / "c.vbt",
                      TraceFormat::kBinary);
  const auto counts = testing::read_file(dir.path / "c.vbt");
  CHECK_THROWS_WITH_AS(read_count_trace(variant("cc.vbt", counts.substr(0, counts.size() - 4))),
                       doctest::Contains("cc.vbt: record 1: truncated"), InputError);
  CHECK_THROWS_WITH_AS(read_token_trace(dir.path / "c.vbt"),
                       doctest::Contains("holds per-step expert counts, not per-token routing"),
                       InputError);
}

TEST_CASE("routing from a binary trace equals routing from its CSV") {
  testing::TempDir dir("trace-binary-routing");
  write_routing_trace(read_token_trace(flame_trace()), dir.path / "f.vbt", TraceFormat::kBinary);
  TokenTraceRouting from_csv(flame_trace(), 8, 64, 6), from_binary(dir.path / "f.vbt", 8, 64, 6);
  for (int step = 0; step < 20; ++step) {
    const auto a = from_csv.next_counts({step % 8, 300});
    const auto b = from_binary.next_counts({step % 8, 300});
    CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
}

TEST_CASE("a trace with fewer experts or layers than the model is mapped only when asked") {
  testing::TempDir dir("trace-mapping");
  const auto csv = dir.write("t.csv", kTokenCsv);  // 2 layers, experts 0..3
  CHECK_THROWS_WITH_AS(TokenTraceRouting(csv, 2, 8, 2),
                       doctest::Contains("the trace has 4 experts (for a CSV: its largest expert "
                                         "id + 1) and the model 8; set "
                                         "workload.routing.expert_mapping = \"pad\""),
                       InputError);
  TokenTraceRouting padded(csv, 2, 8, 2, {LayerMapping::kExact, ExpertMapping::kPad});
  const auto c = padded.next_counts({0, 3});
  CHECK(std::accumulate(c.begin() + 4, c.end(), 0) == 0);
  CHECK(std::accumulate(c.begin(), c.end(), 0) == 6);
  // Count traces cycle layers only when asked, too.
  const auto counts = dir.path / "c.csv";
  write_routing_trace(count_tokens(read_token_trace(csv), 2), counts, TraceFormat::kCountCsv);
  CHECK_THROWS_WITH_AS(CountTraceRouting(counts, 4, 4, 2),
                       doctest::Contains("the trace has 2 layers and the model 4 MoE layers"),
                       InputError);
  CountTraceRouting cycled(counts, 4, 4, 2, {LayerMapping::kCycle, ExpertMapping::kExact});
  const auto a = cycled.next_counts({3, 2});  // MoE layer 3 replays trace layer 1 (id 5)
  CHECK(std::vector<std::int32_t>(a.begin(), a.end()) == std::vector<std::int32_t>{0, 1, 2, 1});
}

TEST_CASE("trace convert and trace stats on the command line") {
  testing::TempDir dir("trace-convert-cli");
  const auto csv = dir.write("t.csv", kTokenCsv);
  const auto r = testing::cli({"trace", "convert", csv.string(), (dir.path / "t.vbt").string()});
  INFO(r.err);
  CHECK(r.status == 0);
  const auto s = testing::cli({"trace", "stats", (dir.path / "t.vbt").string(), "--gpus", "2",
                               "--batch-tokens", "2", "--json"});
  CHECK(s.status == 0);
  CHECK(nlohmann::json::parse(s.out)["format"] == "binary");
  const auto unknown =
      testing::cli({"trace", "convert", csv.string(), (dir.path / "t.bin").string()});
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("cannot tell the format from the extension") != std::string::npos);
  const auto to = testing::cli(
      {"trace", "convert", csv.string(), (dir.path / "t.bin").string(), "--to", "long_csv"});
  CHECK(to.status == 0);
  CHECK(detect_trace_format(dir.path / "t.bin") == TraceFormat::kLongCsv);

  // Into itself, through a link: refused, the per-token trace intact (as
  // counts it would have lost every token's experts).
  std::filesystem::create_symlink(csv, dir.path / "link.csv");
  const auto itself = testing::cli(
      {"trace", "convert", csv.string(), (dir.path / "link.csv").string(), "--to", "count_csv"});
  CHECK(itself.status == 2);
  CHECK(itself.err.find("is the input file") != std::string::npos);
  CHECK(testing::read_file(csv) == kTokenCsv);
}

TEST_CASE("trace generate: --drift-at before OUT gives every layer a new hot set at that step") {
  testing::TempDir dir("generate");
  const auto out = (dir.path / "g.csv").string();
  const auto r = testing::cli({"trace", "generate", "--model", "deepseek-v3", "--steps", "6",
                               "--tokens", "4096", "--skew", "2", "--drift-at", "3", out});
  INFO("stderr: ", r.err);
  REQUIRE(r.status == 0);
  const auto trace = read_count_trace(out);
  CHECK(trace.steps == 6);
  CHECK(trace.layer_ids.size() == 58);
  // Cosine similarity of two steps' counts in layer 0: near 1 under one hot
  // set, low across a drift (two random orders of a Zipf-2 popularity).
  const auto similarity = [&](std::size_t a, std::size_t b) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t e = 0; e < 256; ++e) {
      const double x = trace.at(a, 0)[e], y = trace.at(b, 0)[e];
      ab += x * y, aa += x * x, bb += y * y;
    }
    return ab / std::sqrt(aa * bb);
  };
  // (Measured: 0.9998 within, 0.018 across.)
  CHECK(similarity(0, 2) > 0.9);
  CHECK(similarity(3, 5) > 0.9);
  CHECK(similarity(0, 3) < 0.5);
  CHECK(similarity(2, 5) < 0.5);
  for (std::size_t s = 0; s < trace.steps; ++s) {
    const auto c = trace.at(s, 0);
    CHECK(std::accumulate(c.begin(), c.end(), 0) == 4096 * 8);
  }
  for (const char* bad : {"0", "3,2", "x", "3,,4"}) {
    CAPTURE(bad);
    const auto refused = testing::cli({"trace", "generate", "--model", "deepseek-v3", "--steps",
                                       "6", "--tokens", "8", "--drift-at", bad, out});
    CHECK(refused.status == 2);
    CHECK(refused.err.find("--drift-at: '") != std::string::npos);
  }
}
