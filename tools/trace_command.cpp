// `vibesim trace`: inspect, convert, fit and generate routing traces.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "models/moe_model.h"
#include "tools/cli.h"
#include "traces/routing_fit.h"
#include "traces/synthetic_routing.h"
#include "traces/trace_format.h"
#include "traces/trace_stats.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

constexpr std::int64_t kMaxBatchTokens = std::int64_t{1} << 24;

void check_batch_tokens(std::int64_t batch_tokens) {
  if (batch_tokens < 1 || batch_tokens > kMaxBatchTokens)
    throw InputError(
        fmt::format("--batch-tokens: must be in [1, {}], got {}", kMaxBatchTokens, batch_tokens));
}

TraceFormat format_named(const std::string& name, const char* option) {
  if (const auto format = find_choice(kTraceFormats, name)) return *format;
  throw InputError(fmt::format("{}: unknown format '{}'; valid values are: {}", option, name,
                               names_of(kTraceFormats)));
}

// --to if given, else from the extension; a .csv is token_csv for per-token
// routing and count_csv for counts.
TraceFormat output_format(const std::string& to, const std::filesystem::path& out, bool tokens) {
  if (!to.empty()) return format_named(to, "--to");
  if (const auto format = trace_format_of_extension(out)) return *format;
  if (out.extension() == ".csv") return tokens ? TraceFormat::kTokenCsv : TraceFormat::kCountCsv;
  throw InputError(fmt::format(
      "{}: cannot tell the format from the extension (.vbt, .json, .csv); give --to ({})",
      out.string(), names_of(kTraceFormats)));
}

void print_stats(std::ostream& out, const std::string& file, const std::string& format,
                 const CountTrace& trace, int gpus, const std::vector<LayerTraceStats>& stats) {
  fmt::print(out, "{}: {}, {} experts{}, {} layers; GPUs: {} (contiguous placement)\n", file,
             format, trace.num_experts, trace.top_k > 0 ? fmt::format(", top-{}", trace.top_k) : "",
             stats.size(), gpus);
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

int stats_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim trace stats TRACE [options]\n\n"
      "Per layer of a routing trace in any format (vibesim list: trace formats): assignments,\n"
      "max/mean and CV of expert counts, the top expert and its share, the busiest and\n"
      "lightest GPU under contiguous placement, and how much each expert's count varies\n"
      "from step to step.\n\noptions");
  int gpus = 8, experts = 0;
  std::int64_t batch_tokens = 256;
  options.add_options()("help,h", "show this help")("gpus", po::value(&gpus)->default_value(8),
                                                    "GPUs for the contiguous placement")(
      "batch-tokens", po::value(&batch_tokens)->default_value(256),
      "per-token traces: tokens per step")(
      "experts", po::value(&experts),
      "experts in the model (default: the trace's; more pads with unused experts)")(
      "json", "write JSON to stdout instead of the table");
  std::string file;
  const auto vm = parse_command_line(context, args, options, "trace", &file);
  if (!vm) return 0;
  if (file.empty()) throw InputError("trace stats: give a TRACE file");
  check_batch_tokens(batch_tokens);
  if (experts < 0 || experts > kTraceExpertLimit)
    throw InputError(
        fmt::format("--experts: must be in [1, {}], got {}", kTraceExpertLimit, experts));
  const auto format = name_of(kTraceFormats, detect_trace_format(file));
  const auto read = read_routing_trace(file, experts > 0 ? experts : kTraceExpertLimit);
  auto trace = std::holds_alternative<TokenTrace>(read)
                   ? count_tokens(std::get<TokenTrace>(read), batch_tokens)
                   : std::get<CountTrace>(read);
  pad_experts(trace, experts);
  const auto stats = trace_stats(trace, gpus);
  if (vm->count("json")) {
    nlohmann::ordered_json json = {{"format", format}};
    json.update(trace_stats_json(trace, gpus, stats));
    context.out << json.dump(2) << "\n";
  } else {
    print_stats(context.out, file, format, trace, gpus, stats);
  }
  return 0;
}

int convert_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim trace convert IN OUT [options]\n\n"
      "Converts a routing trace between formats (vibesim list: trace formats). The output\n"
      "format comes from --to, else OUT's extension (.vbt binary, .json sglang_json, .csv\n"
      "token_csv for per-token input, count_csv for counts). Per-token routing written to a\n"
      "count format is counted in steps of --batch-tokens; counts cannot become per-token.\n\n"
      "options");
  std::string to;
  std::int64_t batch_tokens = 256;
  std::vector<std::string> files;
  options.add_options()("help,h", "show this help")("to", po::value(&to),
                                                    "output format (default: from OUT)")(
      "batch-tokens", po::value(&batch_tokens)->default_value(256),
      "tokens per step when counting per-token routing");
  const auto vm = parse_command_line(context, args, options, &files);
  if (!vm) return 0;
  if (files.size() != 2) throw InputError("trace convert: give IN and OUT");
  check_batch_tokens(batch_tokens);
  refuse_output_over_input(files[1], files[0]);
  const auto trace = read_routing_trace(files[0]);
  const bool tokens = std::holds_alternative<TokenTrace>(trace);
  const auto format = output_format(to, files[1], tokens);
  write_routing_trace(trace, files[1], format, batch_tokens);
  fmt::print(context.status_stream(files[1]), "{} ({}) -> {} ({})\n", files[0],
             name_of(kTraceFormats, detect_trace_format(files[0])), files[1],
             name_of(kTraceFormats, format));
  return 0;
}

void print_fit(std::ostream& out, const RoutingFit& fit) {
  fmt::print(out, "{:>6} {:>10} {:>12} {:>9}   {}\n", "layer", "top share", "coefficient",
             "exponent", "measured variance ratio at assignments per batch");
  for (const auto& l : fit.layers) {
    std::string measured;
    for (const auto& [m, phi] : l.measured) measured += fmt::format(" {:.0f}:{:.2f}", m, phi);
    fmt::print(out, "{:>6} {:>10.4f} {:>12.4g} {:>9.3f}  {}\n", l.layer_id,
               *std::max_element(l.popularity.begin(), l.popularity.end()),
               l.dispersion.coefficient, l.dispersion.exponent, measured);
  }
  fmt::print(out,
             "(variance ratio: the observed variance of expert counts over a multinomial's; "
             "fitted as 1 + coefficient * assignments^exponent)\n");
}

int fit_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim trace fit TRACE -o ROUTING.json [options]\n\n"
      "Fits a synthetic routing model to a trace: per layer, each expert's share of the\n"
      "assignments (popularity) and how much batches deviate from it (dispersion; see\n"
      "docs/trace-formats.md). Experiments use it as workload.routing = {\"source\":\n"
      "\"synthetic\", \"distribution\": \"fitted\", \"fit\": \"ROUTING.json\"}.\n\noptions");
  std::string out_path;
  int top_k = 0;
  std::string file;
  options.add_options()("help,h", "show this help")("out,o", po::value(&out_path),
                                                    "the fit to write (JSON)")(
      "top-k", po::value(&top_k), "count traces that do not record it: the model's top-k");
  const auto vm = parse_command_line(context, args, options, "trace", &file);
  if (!vm) return 0;
  if (file.empty() || out_path.empty()) throw InputError("trace fit: give TRACE and -o OUT.json");
  refuse_output_over_input(out_path, file);
  const auto trace = read_routing_trace(file);
  RoutingFit fit;
  if (const auto* tokens = std::get_if<TokenTrace>(&trace)) {
    fit = fit_routing(*tokens);
  } else {
    const auto& counts = std::get<CountTrace>(trace);
    if (counts.top_k == 0 && (top_k < 1 || top_k > counts.num_experts))
      throw InputError(fmt::format("{}: the trace does not record top-k; give --top-k in [1, {}]",
                                   file, counts.num_experts));
    fit = fit_routing(counts, top_k);
  }
  fit.description = fmt::format("fitted by `vibesim trace fit` to {}",
                                std::filesystem::path(file).filename().string());
  write_file_atomically(out_path, fit.to_json().dump(2) + "\n");
  print_fit(context.status_stream(out_path), fit);
  fmt::print(context.status_stream(out_path), "wrote {}\n", out_path);
  return 0;
}

struct GenerateArguments {
  std::string model, from, to, out;
  std::int64_t steps = 0, tokens = 0;
  double skew = 1.0, dispersion = 0.0, dispersion_exponent = 1.0;
  std::vector<std::string> drift_at;  // each STEP[,STEP...]; the option may repeat
  std::int64_t seed = 1;              // seed_option() checks it
};

MoeModel load_model_named(const CliContext& context, const std::string& name) {
  const std::filesystem::path path =
      name.ends_with(".json") ? std::filesystem::path(name)
                              : context.locations.config_dir / "models" / (name + ".json");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(
        fmt::format("--model: no model '{}' ({} does not exist)", name, path.string()));
  return load_moe_model(path);
}

// The steps of --drift-at "3,7" (or repeated options), positive and ascending.
// One comma-separated value, not several words: a list of words would also
// take OUT when it follows.
std::vector<std::int64_t> drift_steps(const std::vector<std::string>& texts) {
  std::vector<std::int64_t> steps;
  for (const auto& text : texts)
    for (const auto& [item, step] : comma_separated_numbers(text)) {
      // A whole number, below 2^53 so that the double holds it exactly.
      if (!(step >= 1 && step <= 9e15 && step == std::floor(step)) ||
          (!steps.empty() && step <= static_cast<double>(steps.back())))
        throw InputError(
            fmt::format("--drift-at: '{}' is not a step after the previous one (expected ascending "
                        "positive steps, STEP[,STEP...])",
                        item));
      steps.push_back(static_cast<std::int64_t>(step));
    }
  return steps;
}

SyntheticRoutingSpec generate_spec(const GenerateArguments& a) {
  SyntheticRoutingSpec spec;
  if (!a.from.empty()) {
    spec.distribution = PopularityDistribution::kFitted;
    spec.fit_path.text = a.from;
    spec.fit_path.resolved = std::filesystem::absolute(a.from);
    spec.fit = std::make_shared<const RoutingFit>(RoutingFit::load(a.from));
    spec.fit_mapping = {LayerMapping::kCycle, ExpertMapping::kExact};
  } else {
    // The ranges of the experiment keys zipf_exponent, dispersion, dispersion_exponent.
    require_option_in_range("skew", a.skew, 0, 10);
    require_option_in_range("dispersion", a.dispersion, 0, 1e9);
    require_option_in_range("dispersion-exponent", a.dispersion_exponent, -4, 4);
    spec.zipf_exponent = a.skew;
    spec.dispersion = {a.dispersion, a.dispersion_exponent};
  }
  spec.drift_at_batches = drift_steps(a.drift_at);
  // Every step its own draw, up to a pool of 4,096 per layer.
  spec.pool_size = static_cast<int>(std::min<std::int64_t>(a.steps, 4096));
  return spec;
}

CountTrace generate_trace(const MoeModel& model, const GenerateArguments& a,
                          const CliContext& context) {
  const auto layers = static_cast<int>(model.num_moe_layers());
  const auto experts = static_cast<int>(model.routed_experts);
  const auto top_k = static_cast<int>(model.top_k);
  const auto seed = seed_option(a.seed);
  SyntheticRouting routing(layers, experts, top_k, generate_spec(a), seed, seed + 1);
  CountTrace trace;
  trace.top_k = top_k;
  trace.num_experts = experts;
  trace.steps = static_cast<std::size_t>(a.steps);
  for (int l = 0; l < layers; ++l) trace.layer_ids.push_back(l);
  trace.counts.reserve(trace.steps * static_cast<std::size_t>(layers * experts));
  for (std::size_t s = 0; s < trace.steps; ++s) {
    context.checkpoint();
    for (int l = 0; l < layers; ++l) {
      const auto c = routing.next_counts({l, a.tokens});
      trace.counts.insert(trace.counts.end(), c.begin(), c.end());
    }
  }
  return trace;
}

int generate_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim trace generate --model M --steps S --tokens N [options] OUT\n\n"
      "Writes a per-step count trace drawn from synthetic routing: Zipf popularity (--skew)\n"
      "with optional batch dispersion, or a fit of a real trace (--from, see trace fit),\n"
      "with optional drift to a new hot set at given steps. Format from --to or OUT's\n"
      "extension (.csv count_csv, .json sglang_json, .vbt binary).\n\noptions");
  GenerateArguments a;
  options.add_options()("help,h", "show this help")("model", po::value(&a.model),
                                                    "model name (configs/models) or .json file")(
      "steps", po::value(&a.steps), "steps (batches) to generate")("tokens", po::value(&a.tokens),
                                                                   "tokens per batch")(
      "from", po::value(&a.from), "a fit written by `vibesim trace fit` (layers cycle)")(
      "skew", po::value(&a.skew)->default_value(1.0), "Zipf exponent (without --from)")(
      "dispersion", po::value(&a.dispersion)->default_value(0.0),
      "batch dispersion coefficient (without --from; 0: multinomial batches)")(
      "dispersion-exponent", po::value(&a.dispersion_exponent)->default_value(1.0),
      "batch dispersion exponent")("drift-at", po::value(&a.drift_at)->composing(),
                                   "STEP[,STEP...]: steps at which every layer gets a new hot "
                                   "set (ascending; the option may repeat)")(
      "seed", po::value(&a.seed)->default_value(1), "random seed")(
      "to", po::value(&a.to), "output format (default: from OUT)");
  const auto vm = parse_command_line(context, args, options, "out", &a.out);
  if (!vm) return 0;
  if (a.model.empty() || a.out.empty()) throw InputError("trace generate: give --model and OUT");
  if (a.steps < 1 || a.steps > 1'000'000)
    throw InputError(fmt::format("--steps: must be in [1, 1000000], got {}", a.steps));
  if (a.tokens < 1 || a.tokens > kMaxBatchTokens)
    throw InputError(
        fmt::format("--tokens: must be in [1, {}], got {}", kMaxBatchTokens, a.tokens));
  if (!a.from.empty()) refuse_output_over_input(a.out, a.from);
  const auto model = load_model_named(context, a.model);
  check_count_cells(static_cast<double>(a.steps), static_cast<double>(model.num_moe_layers()),
                    static_cast<double>(model.routed_experts), "--steps");
  const auto format = output_format(a.to, a.out, false);
  write_routing_trace(generate_trace(model, a, context), a.out, format);
  fmt::print(context.status_stream(a.out), "wrote {} ({}, {} steps x {} tokens)\n", a.out,
             name_of(kTraceFormats, format), a.steps, a.tokens);
  return 0;
}

}  // namespace

int trace_command(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print(context.out,
               "vibesim trace stats TRACE [--gpus G] [--batch-tokens N] [--json]\n"
               "  per-layer skew, GPU imbalance and step-to-step variation of a routing trace\n"
               "vibesim trace convert IN OUT [--to FORMAT] [--batch-tokens N]\n"
               "  convert between trace formats (token_csv, count_csv, long_csv, sglang_json, "
               "binary)\n"
               "vibesim trace fit TRACE -o ROUTING.json\n"
               "  fit per-layer popularity and batch dispersion (a synthetic routing model)\n"
               "vibesim trace generate --model M --steps S --tokens N [--from ROUTING.json | "
               "--skew X] [--drift-at STEP,...] OUT\n"
               "  write a synthetic per-step count trace\n"
               "Each takes --help.\n");
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "stats") return stats_command(context, rest);
  if (args[0] == "convert") return convert_command(context, rest);
  if (args[0] == "fit") return fit_command(context, rest);
  if (args[0] == "generate") return generate_command(context, rest);
  throw InputError(fmt::format(
      "trace: unknown subcommand '{}'; valid values are: stats, convert, fit, generate", args[0]));
}

}  // namespace vibesim
