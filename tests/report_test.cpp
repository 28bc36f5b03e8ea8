// vibesim report: a self-contained page whose embedded data holds what the
// run wrote; tables only without Chart.js; refuses a folder that is no run.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "outputs/html_report.h"

using namespace vibesim;

namespace {

// The JSON between <script id="data" ...> and </script>.
nlohmann::json embedded_data(const std::string& page) {
  const std::string open = R"(<script id="data" type="application/json">)";
  const auto from = page.find(open) + open.size();
  return nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
}

}  // namespace

TEST_CASE("report of a layer study: self-contained, with each policy's latency CDF") {
  testing::TempDir dir("report-layers");
  REQUIRE(testing::cli({"run", "--quiet", "--out", (dir.path / "run").string(), "--set",
                        "workload.iterations=3", "--set", R"(policies=["static","eplb"])"})
              .status == 0);
  const auto r = testing::cli({"report", (dir.path / "run").string()});
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto page = testing::read_file(dir.path / "run" / "report.html");
  CHECK(page.find("src=\"http") == std::string::npos);  // nothing fetched at view time
  const auto data = embedded_data(page);
  CHECK(data["kind"] == "layers");
  REQUIRE(data["cdf"].size() == 2);
  for (const auto& [policy, points] : data["cdf"].items()) {
    REQUIRE(points.size() == 200);
    for (std::size_t i = 1; i < points.size(); ++i) {
      CHECK(points[i]["x"] >= points[i - 1]["x"]);
      CHECK(points[i]["y"] >= points[i - 1]["y"]);
    }
    CHECK(points.back()["y"] == 1.0);
  }
  CHECK(data["policies"][1]["gpu_layer_idle_fraction"].size() == 8);
  CHECK(data["config"].get<std::string>().find("\"quickstart\"") != std::string::npos);
}

TEST_CASE(
    "report without Chart.js says so and keeps the tables; '</' in data cannot end the script") {
  const nlohmann::ordered_json data{
      {"kind", "seeds"}, {"title", "a </script> title"}, {"policies", nlohmann::json::array()}};
  const auto page = html_report(data, "");
  CHECK(page.find("window.Chart = undefined;") != std::string::npos);
  CHECK(page.find("Charts need Chart.js") != std::string::npos);
  CHECK(page.find("a &lt;/script&gt; title") != std::string::npos);
  CHECK(embedded_data(page)["title"] == "a </script> title");
}

TEST_CASE("report refuses a folder that is neither a run nor a sweep") {
  testing::TempDir dir("report-bad");
  const auto r = testing::cli({"report", dir.path.string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("neither a run directory") != std::string::npos);
  CHECK(testing::cli({"report", (dir.path / "missing").string()}).status == 2);
}

TEST_CASE("report refuses a run whose files are not as vibesim writes them, naming the file") {
  testing::TempDir dir("report-edited");
  dir.write("a/summary.json", R"({"experiment": "x"})");  // no policies
  auto r = testing::cli({"report", (dir.path / "a").string()});
  CHECK(r.status == 2);  // was an internal error (exit 1)
  CHECK(r.err.find("a/summary.json: not a run's summary this vibesim can read") !=
        std::string::npos);
  dir.write("b/results.json", R"({"points": [{"point": "one", "overrides": {}}]})");
  r = testing::cli({"report", (dir.path / "b").string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("b/results.json: not a sweep's results") != std::string::npos);
  dir.write("c/summary.json", R"({"policies": [{"policy": "static"}]})");
  dir.write("c/layers.csv", "policy,iteration,moe_layer,layer_us\nstatic,0,0,12.5\nstatic,0,1,x\n");
  r = testing::cli({"report", (dir.path / "c").string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("c/layers.csv:3: not a row of layers.csv") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "c" / "report.html"));
  dir.write("c/layers.csv", "iteration,policy,moe_layer,layer_us\n0,static,0,12.5\n");
  r = testing::cli({"report", (dir.path / "c").string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("c/layers.csv:1: not the header of layers.csv") != std::string::npos);
  dir.write("c/layers.csv", "policy,iteration,moe_layer,layer_us\n\"static,0,0,12.5\n");
  r = testing::cli({"report", (dir.path / "c").string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("c/layers.csv:2: a quoted field is not closed") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "c" / "report.html"));
  // A policy name the report's JSON cannot hold (it was an internal error).
  dir.write("c/layers.csv", "policy,iteration,moe_layer,layer_us\nst\xff,0,0,12.5\n");
  r = testing::cli({"report", (dir.path / "c").string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("c/layers.csv:2: column 'policy': not valid UTF-8") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path / "c" / "report.html"));
}
