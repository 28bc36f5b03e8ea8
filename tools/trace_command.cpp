// `vibesim trace`: inspect routing traces.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "io/config_error.h"
#include "tools/cli.h"
#include "traces/trace_stats.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

void print_stats(std::ostream& out, const std::string& file, const TraceCounts& trace, int gpus,
                 const std::vector<LayerTraceStats>& stats) {
  fmt::print(out, "{}: {}, {} experts{}, {} layers; GPUs: {} (contiguous placement)\n", file,
             trace.format, trace.num_experts,
             trace.top_k > 0 ? fmt::format(", top-{}", trace.top_k) : "", stats.size(), gpus);
  fmt::print(out, "{:>6} {:>6} {:>11} {:>9} {:>6} {:>12} {:>9} {:>9} {:>8}\n", "layer", "steps",
             "assignments", "max/mean", "cv", "top (share)", "busiest", "lightest", "step cv");
  for (const auto& s : stats)
    fmt::print(out,
               "{:>6} {:>6} {:>11} {:>9.3f} {:>6.3f} {:>5} ({:.3f}) {:>9.3f} {:>9.3f} {:>8.3f}\n",
               s.layer_id, s.steps, s.assignments, s.max_over_mean, s.cv, s.top_expert,
               s.top_expert_share, s.busiest_gpu_over_mean, s.lightest_gpu_over_mean, s.step_cv);
  fmt::print(out,
             "(max/mean and cv of each expert's count over the trace; top: the most popular "
             "expert and its share of assignments; busiest/lightest: a GPU's load over the mean "
             "GPU's; step cv: mean over experts of their count's variation from step to step)\n");
}

int trace_stats_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim trace stats TRACE.csv [options]\n\n"
      "Per layer of a routing trace (per-token: layer, e1..ek; or per-step counts:\n"
      "step,layer,expert,count): assignments, max/mean and CV of expert counts, the top\n"
      "expert and its share, the busiest and lightest GPU under contiguous placement, and\n"
      "how much each expert's count varies from step to step.\n\noptions");
  int gpus = 8, experts = 0;
  std::int64_t batch_tokens = 256;
  options.add_options()("help,h", "show this help")("gpus", po::value(&gpus)->default_value(8),
                                                    "GPUs for the contiguous placement")(
      "batch-tokens", po::value(&batch_tokens)->default_value(256),
      "per-token traces: tokens per step")(
      "experts", po::value(&experts),
      "experts in the model (default: the largest id in the trace + 1)")(
      "json", "write JSON to stdout instead of the table");
  std::string file;
  const auto vm = parse_command_line(context, args, options, "trace", &file);
  if (!vm) return 0;
  if (file.empty()) throw InputError("trace stats: give a TRACE file");
  if (batch_tokens < 1 || batch_tokens > (std::int64_t{1} << 24))
    throw InputError(fmt::format("--batch-tokens: must be in [1, 16777216], got {}", batch_tokens));
  if (experts < 0 || experts > 65'536)
    throw InputError(fmt::format("--experts: must be in [1, 65536], got {}", experts));
  const auto trace = read_trace_counts(file, batch_tokens, experts);
  const auto stats = trace_stats(trace, gpus);
  if (vm->count("json")) {
    context.out << trace_stats_json(trace, gpus, stats).dump(2) << "\n";
  } else {
    print_stats(context.out, file, trace, gpus, stats);
  }
  return 0;
}

}  // namespace

int trace_command(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print(context.out,
               "vibesim trace stats TRACE.csv [--gpus G] [--batch-tokens N] [--json]\n"
               "  per-layer skew, GPU imbalance and step-to-step variation of a routing trace\n");
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "stats") return trace_stats_command(context, rest);
  throw InputError(fmt::format("trace: unknown subcommand '{}'; valid values are: stats", args[0]));
}

}  // namespace vibesim
