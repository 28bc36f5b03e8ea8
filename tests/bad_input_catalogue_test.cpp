// The bad-input catalogue (docs/bad-input.md): every command fed truncated,
// wrong-typed, non-finite, negative, huge, empty, wrongly encoded and missing
// inputs and an unwritable output. Each must exit 2 with one line naming the
// file and the key or line, and leave nothing behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "fixtures.h"
#include "io/config_error.h"

using namespace vibesim;

namespace {

struct BadInput {
  const char* name;
  std::vector<std::pair<std::string, std::string>> files;  // written into the folder first
  std::vector<std::string> args;                           // "{dir}" is the folder
  const char* expected;                                    // in the one-line message
};

std::string quickstart() {
  return (testing::config_dir() / "experiments" / "quickstart.json").string();
}
std::string sonnet() {
  return (testing::config_dir() / "experiments" / "paper-dsv3-sonnet.json").string();
}

std::vector<BadInput> catalogue() {
  const std::string azure = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string loads = "layer,expert,count\n";
  return {
      {"run: truncated experiment",
       {{"t.json", "{\"name\": \"x\", "}},
       {"run", "{dir}/t.json"},
       "t.json: parse error"},
      {"run: empty experiment", {{"e.json", ""}}, {"run", "{dir}/e.json"}, "e.json: parse error"},
      {"run: invalid UTF-8",
       {{"u.json", "{\"name\": \"\xff\xfe\"}"}},
       {"run", "{dir}/u.json"},
       "u.json: parse error"},
      {"run: a --set value that is not UTF-8 (config.resolved.json could not hold it)",
       {},
       {"run", quickstart(), "--set", "name=x\xca\x8f\xff"},
       "--set name: not valid UTF-8 text"},
      {"run: a --set key that is not UTF-8",
       {},
       {"run", quickstart(), "--set", "na\xffme=x"},
       "--set: a key: not valid UTF-8 text"},
      {"run: an experiment whose file name is not UTF-8",
       {{"x\xff.json", "{}"}},
       {"run", "{dir}/x\xff.json"},
       "the file's name: not valid UTF-8 text"},
      {"profile fit: a GPU id that is not UTF-8 (the profile records it)",
       {{"g.csv", "uuid,perf\na\xff,1\nb,2\n"}},
       {"profile", "fit", "{dir}/g.csv", "--gpu-col", "uuid", "--time-col", "perf", "-o",
        "{dir}/p.json"},
       "g.csv:2: column 'uuid': not valid UTF-8 text"},
      {"profile fit: a --name that is not UTF-8",
       {{"g.csv", "uuid,perf\na,1\nb,2\n"}},
       {"profile", "fit", "{dir}/g.csv", "--gpu-col", "uuid", "--time-col", "perf", "--name",
        "n\xff", "-o", "{dir}/p.json"},
       "--name: not valid UTF-8 text"},
      {"run: missing experiment", {}, {"run", "{dir}/none.json"}, "none.json: cannot open file"},
      {"run: neither a file nor a shipped experiment's name",
       {},
       {"run", "no-such-experiment"},
       "no-such-experiment: no such file, nor a shipped experiment"},
      {"run: number JSON cannot hold",
       {{"n.json", "{\"name\": \"x\", \"seed\": 1e400}"}},
       {"run", "{dir}/n.json"},
       "number overflow parsing '1e400'"},
      {"run: wrong type",
       {},
       {"run", quickstart(), "--set", "cluster.num_gpus=eight"},
       "key 'cluster.num_gpus': expected an integer, got string"},
      {"run: NaN",
       {},
       {"run", quickstart(), "--set", "workload.routing.zipf_exponent=NaN"},
       "key 'workload.routing.zipf_exponent': expected a number, got string"},
      {"run: negative",
       {},
       {"run", quickstart(), "--set", "workload.iterations=-3"},
       "key 'workload.iterations': value -3 is out of range"},
      {"run: huge",
       {},
       {"run", quickstart(), "--set", "workload.batch_tokens=99999999999"},
       "key 'workload.batch_tokens': value 99999999999 is out of range"},
      {"run: malformed --set",
       {},
       {"run", quickstart(), "--set", "iterations"},
       "--set 'iterations': expected key=value"},
      {"run: output over the size limit",
       {},
       {"run", quickstart(), "--set", "workload.iterations=10000000", "--max-output-mb", "100"},
       "layers.csv would hold about 2900000000 rows"},
      {"run: unwritable output",
       {},
       {"run", quickstart(), "--out", "/proc/vibesim-out"},
       "cannot create output directory"},
      {"run: an --out name longer than the file system allows",
       {},
       {"run", quickstart(), "--out", "{dir}/" + std::string(300, 'x')},
       "cannot create output directory (File name too long; it is staged in .xxx"},
      {"run: a --timeline name longer than the file system allows",
       {},
       {"run", quickstart(), "--set", "workload.iterations=1", "--timeline",
        "{dir}/" + std::string(300, 'x') + ".json"},
       "cannot write"},
      {"report: a folder name longer than the file system allows",
       {},
       {"report", "{dir}/" + std::string(300, 'x')},
       "is not a directory"},
      {"run: a folder named as the experiment",
       {{"d.json/x", ""}},
       {"run", "{dir}/d.json"},
       "d.json: is a directory, not a file"},
      {"place: a folder named as the loads",
       {{"l/x", ""}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l"},
       "l: is a directory, not a file"},
      {"place: a GPU speed that would overflow their sum",
       {{"l.csv", loads + "0,0,5\n0,1,3\n"}},
       {"place", "--policy", "vibe", "--gpus", "2", "--loads", "{dir}/l.csv", "--gpu-speeds",
        "1e308,1e308"},
       "--gpu-speeds: '1e308' is not a speed in [1e-6, 1e6]"},
      {"run: truncated request trace",
       {{"r.jsonl", "{\"timestamp\": 1,\n"}},
       {"run", sonnet(), "--requests", "{dir}/r.jsonl"},
       "r.jsonl:1: not a JSON object"},
      {"run: negative request length",
       {{"r.csv", azure + "2023-11-16 18:15:50,5,-3\n"}},
       {"run", sonnet(), "--requests", "{dir}/r.csv"},
       "r.csv:2: column 'GeneratedTokens' must be in [0, 1048576], got -3"},
      {"run: empty routing trace",
       {{"t.csv", ""}},
       {"run", quickstart(), "--routing", "{dir}/t.csv"},
       "t.csv: file is empty"},
      {"run: not a routing trace",
       {{"t.csv", "a,b\n1,2\n"}},
       {"run", quickstart(), "--routing", "{dir}/t.csv"},
       "t.csv:1: not a routing trace"},
      {"place: NaN load",
       {{"l.csv", loads + "0,0,nan\n"}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l.csv"},
       "l.csv:2: column 'count' must be a number in [0, 1e+15], got 'nan'"},
      {"place: empty loads",
       {{"l.csv", ""}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l.csv"},
       "l.csv: file is empty"},
      {"place: huge expert id",
       {{"l.csv", loads + "0,99999999,1\n"}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l.csv"},
       "l.csv:2: column 'expert' is not an id in [0, 65536)"},
      {"place: unwritable output",
       {{"l.csv", loads + "0,0,5\n0,1,3\n"}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l.csv", "-o",
        "/proc/vibesim.json"},
       "cannot write"},
      {"place: a writable report with an unwritable output",
       {{"l.csv", loads + "0,0,5\n0,1,3\n"}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l.csv", "--report",
        "{dir}/r.json", "-o", "/proc/vibesim.json"},
       "/proc/vibesim.json: cannot write"},
      {"profile fit: missing column",
       {{"f.csv", "uuid,perf\na,1\nb,2\n"}},
       {"profile", "fit", "{dir}/f.csv", "--gpu-col", "gpu", "--time-col", "perf", "-o",
        "{dir}/p.json"},
       "f.csv:1: no column 'gpu'"},
      {"profile fit: one GPU",
       {{"f.csv", "uuid,perf\na,1\na,2\n"}},
       {"profile", "fit", "{dir}/f.csv", "--gpu-col", "uuid", "--time-col", "perf", "-o",
        "{dir}/p.json"},
       "only one GPU"},
      {"trace stats: missing trace",
       {},
       {"trace", "stats", "{dir}/none.csv"},
       "none.csv: cannot open file"},
      {"trace stats: repeated expert",
       {{"t.csv", "layer,e1,e2\n0,3,3\n"}},
       {"trace", "stats", "{dir}/t.csv"},
       "t.csv:2: expert 3 appears twice for one token"},
      {"trace stats: negative count",
       {{"c.csv", "step,layer,expert,count\n0,0,1,-3\n"}},
       {"trace", "stats", "{dir}/c.csv"},
       "c.csv:2: column 'count' is negative"},
      {"trace stats: truncated binary header",
       {{"t.vbt", std::string("VIBETRC\0\1\0\0\0", 12)}},
       {"trace", "stats", "{dir}/t.vbt"},
       "t.vbt: not a vibesim binary trace (bad magic or truncated header)"},
      {"trace stats: binary trace of a later version",
       {{"t.vbt", std::string("VIBETRC\0\2", 9) + std::string(23, '\0')}},
       {"trace", "stats", "{dir}/t.vbt"},
       "t.vbt: binary trace version 2; this vibesim reads version 1"},
      {"trace convert: counts to per-token routing",
       {{"c.csv", "step,layer,expert,count\n0,0,1,3\n"}},
       {"trace", "convert", "{dir}/c.csv", "{dir}/t.csv", "--to", "token_csv"},
       "per-step counts cannot be written as a per-token trace"},
      {"trace convert: the output is the input (a lossy format would destroy it)",
       {{"t.csv", "layer,e1,e2\n0,3,4\n"}},
       {"trace", "convert", "{dir}/t.csv", "{dir}/./t.csv", "--to", "count_csv"},
       "t.csv: is the input file"},
      {"trace fit: the fit over its trace",
       {{"t.csv", "layer,e1,e2\n0,3,4\n"}},
       {"trace", "fit", "{dir}/t.csv", "-o", "{dir}/t.csv"},
       "t.csv: is the input file"},
      {"place: the placement over its loads",
       {{"l.csv", loads + "0,0,5\n0,1,3\n"}},
       {"place", "--policy", "eplb", "--gpus", "1", "--loads", "{dir}/l.csv", "-o", "{dir}/l.csv"},
       "l.csv: is the input file"},
      {"profile fit: the profile over its CSV",
       {{"f.csv", "uuid,perf\na,1\nb,2\n"}},
       {"profile", "fit", "{dir}/f.csv", "--gpu-col", "uuid", "--time-col", "perf", "-o",
        "{dir}/f.csv"},
       "f.csv: is the input file"},
      {"run: a key with a line break in its name",
       {{"t.json",
         "{\"name\": \"x\", \"model\": \"deepseek-v3\", \"cluster\": {\"gpu\": \"mi325x\", "
         "\"num_gpus\": 8, \"gpus_per\\nnode\": 1}}"}},
       {"run", "{dir}/t.json"},
       "key 'cluster.gpus_per\\nnode': unknown key"},
      {"trace generate: unknown model",
       {},
       {"trace", "generate", "--model", "nope", "--steps", "2", "--tokens", "8", "{dir}/g.csv"},
       "--model: no model 'nope'"},
      {"trace generate: a NaN skew (the sampler used to spin for ever on it)",
       {},
       {"trace", "generate", "--model", "deepseek-v3", "--steps", "2", "--tokens", "5", "--skew",
        "nan", "{dir}/g.csv"},
       "--skew: must be in [0, 10], got nan"},
      {"run: an endless experiment file (it was read whole, until memory ran out)",
       {},
       {"run", "/dev/zero"},
       "/dev/zero: parse error at line 1, column 1"},
      {"profile fit: an endless line (trace stats read one whole, until memory ran out)",
       {},
       {"profile", "fit", "/dev/zero", "--gpu-col", "uuid", "--time-col", "perf", "-o",
        "{dir}/p.json"},
       "/dev/zero:1: a line longer than 16 MiB"},
      {"trace stats: a device (a piped trace reached its reader empty: 'not a routing trace')",
       {},
       {"trace", "stats", "/dev/zero"},
       "/dev/zero: not a regular file; a routing trace is read more than once"},
      {"trace generate: a negative --seed (it used to wrap to 2^64 - 1)",
       {},
       {"trace", "generate", "--model", "deepseek-v3", "--steps", "2", "--tokens", "5", "--seed",
        "-1", "{dir}/g.csv"},
       "--seed: must be >= 0, got -1"},
      {"profile check: a negative --seed",
       {},
       {"profile", "check", "mi325x", "--seed", "-1"},
       "--seed: must be >= 0, got -1"},
      {"run: a NaN --max-output-mb (it used to lift the limit)",
       {},
       {"run", quickstart(), "--max-output-mb", "nan"},
       "--max-output-mb: must be in [0, 1000000000], got nan"},
      {"bench: a negative --min-seconds",
       {},
       {"bench", "--min-seconds", "-1"},
       "--min-seconds: must be in [0, 3600], got -1"},
      {"run: a request trace that is a folder (it said 'does not exist')",
       {{"r.json",
         R"({"name": "r", "model": "deepseek-v3", "cluster": {"gpu": "mi325x", "num_gpus": 8},
             "serving": {"slo": {"ttft_ms": 350, "tpot_ms": 125},
                         "requests": {"source": "trace", "path": "."}}})"}},
       {"run", "{dir}/r.json"},
       "is not a regular file (a folder, pipe or device)"},
      {"trace generate: a --model path longer than the file system allows",
       {},
       {"trace", "generate", "--model", "{dir}/" + std::string(300, 'x') + ".json", "--steps", "2",
        "--tokens", "8", "{dir}/g.csv"},
       "does not exist"},
  };
}

}  // namespace

TEST_CASE("the bad-input catalogue: exit 2, one line naming the file and key or line, no output") {
  for (const auto& c : catalogue()) {
    CAPTURE(c.name);
    testing::TempDir dir("bad-input");
    for (const auto& [file, text] : c.files) dir.write(file, text);
    const auto before = testing::names_in(dir.path);
    std::vector<std::string> args;
    for (auto a : c.args) {
      if (const auto at = a.find("{dir}"); at != std::string::npos)
        a.replace(at, 5, dir.path.string());
      args.push_back(a);
    }
    if (args[0] == "run" && std::find(args.begin(), args.end(), "--out") == args.end())
      args.insert(args.end(), {"--out", (dir.path / "out").string()});
    const auto r = testing::cli(args);
    INFO("stderr: ", r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.expected) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(testing::names_in(dir.path) == before);  // no output, no staging folder, no temporary
  }
}

TEST_CASE("an input error shows control characters from the input escaped, on one line") {
  CHECK(escape_control_characters("plain 'text' é") == "plain 'text' é");
  CHECK(escape_control_characters("a\nb\r\tc") == "a\\nb\\r\\tc");
  CHECK(escape_control_characters(std::string("\x1b[31m\x7f", 6) + '\0') == "\\x1b[31m\\x7f\\x00");
  CHECK(std::string(InputError("f.json: key 'a\nb': unknown key").what()) ==
        "f.json: key 'a\\nb': unknown key");
}

TEST_CASE("an input error quoting a huge line keeps its start and end, cut between characters") {
  const std::string quoted = "{" + std::string(90'000, 'x') + "é}";
  const std::string message =
      "l.csv:1: expected the header 'layer,expert,count', got '" + quoted + "'";
  const std::string what = InputError(message).what();
  CHECK(what.size() < 900);
  CHECK(what.starts_with("l.csv:1: expected the header 'layer,expert,count', got '{xxx"));
  CHECK(what.ends_with("xxé}'"));
  CHECK(what.find(" [... " + std::to_string(message.size() - 800) + " bytes cut ...] ") !=
        std::string::npos);
  // The cut moves off the middle of a two-byte character (é) at either end.
  const std::string accents =
      std::string(599, 'a') + "é" + std::string(1000, 'b') + "é" + std::string(199, 'c');
  const std::string cut = InputError(accents).what();
  CHECK(cut.starts_with(std::string(599, 'a') + " [... "));
  CHECK(cut.ends_with(" bytes cut ...] " + std::string(199, 'c')));
  CHECK(std::string(InputError(std::string(900, 'a')).what()) == std::string(900, 'a'));
}
