// `vibesim report DIR [-o report.html]`: a self-contained HTML report of a run or a sweep.
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "outputs/html_report.h"
#include "tools/cli.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

// Debian's libjs-chart.js (UMD bundle); empty when it is not installed.
std::string chart_js() {
  std::ifstream in("/usr/share/javascript/chart.js/chart.min.js");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int report_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim report DIR [-o report.html]\n\n"
      "One self-contained HTML file (no network needed to view it) for a run directory\n"
      "(layer study: latency CDFs, percentiles, stragglers, a per-GPU barrier-wait heat map;\n"
      "serving: TTFT/TPOT percentiles, SLO attainment, time shares, the frontier; several\n"
      "seeds: means with 95 % intervals) or a sweep folder (each metric across the points,\n"
      "with intervals), and the resolved configuration. Charts use Chart.js from Debian's\n"
      "libjs-chart.js, inlined; without it the report holds the tables only. docs/report.md.\n\n"
      "options");
  std::string dir, out_path;
  options.add_options()("help,h", "show this help")(
      "out,o", po::value(&out_path), "the HTML file to write (default: DIR/report.html)");
  const auto vm = parse_command_line(context, args, options, "dir", &dir);
  if (!vm) return 0;
  if (dir.empty()) throw InputError("report: give a run directory or sweep folder");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw InputError(fmt::format("report: {} is not a directory", dir));
  if (out_path.empty()) out_path = (std::filesystem::path(dir) / "report.html").string();
  const auto js = chart_js();
  if (js.empty())
    fmt::print(context.err,
               "vibesim report: Chart.js is not installed (Debian package libjs-chart.js); the "
               "report holds tables only\n");
  write_file_atomically(out_path, html_report(report_data(dir), js));
  fmt::print(context.status_stream(out_path), "report: {}\n", out_path);
  return 0;
}

}  // namespace vibesim
