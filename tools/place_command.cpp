// `vibesim place`: one policy on recorded loads of a real deployment, written
// as an expert-location file SGLang can load (--init-expert-location).
#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <boost/program_options.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "models/expert_location_file.h"
#include "models/gpu_latency_profile.h"
#include "outputs/throttled_progress.h"
#include "sim/cluster_setup.h"
#include "tools/cli.h"
#include "traces/expert_load_file.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

std::vector<double> parse_speeds(const std::string& text) {
  std::vector<double> speeds;
  for (const auto& [item, s] : comma_separated_numbers(text)) {
    // Relative speeds; the bounds keep sums and token / speed finite.
    if (!(s >= 1e-6 && s <= 1e6))
      throw InputError(fmt::format(
          "--gpu-speeds: '{}' is not a speed in [1e-6, 1e6] (expected s1,s2,...)", item));
    speeds.push_back(s);
  }
  return speeds;
}

// A JSON matrix (or list of matrices) with one row per line: readable and diffable.
template <typename Rows>
std::string rows_json(const Rows& rows, const std::string& indent) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < rows.size(); ++i)
    out += indent + "  " + nlohmann::json(rows[i]).dump() + (i + 1 < rows.size() ? ",\n" : "\n");
  return out + indent + "]";
}

// What `vibesim place` was asked, as parsed.
struct PlaceArguments {
  std::string policy, loads_path, speeds_text, profile_path, out_path, report_path, current_path;
  int gpus = 0, replicas = 0, groups = 1, nodes = 1;
  double time_limit_s = 30;
};

po::options_description place_options(PlaceArguments& a) {
  po::options_description options(
      "vibesim place --policy NAME --loads FILE --gpus G [options]\n\n"
      "Places experts for recorded loads and writes the expert-location file SGLang's\n"
      "--init-expert-location reads: {\"physical_to_logical_map\": layers x slots} and nothing\n"
      "else (slot s on GPU s / slots_per_gpu). A report beside it (--report; by default\n"
      "OUT.report.json with -o OUT, unless OUT is a stream such as /dev/stdout) has\n"
      "log2phy (padded with -1), logcnt, gpu_load (tokens per GPU, replicas sharing\n"
      "evenly) and predicted_latency (f_g of those tokens per GPU);\n"
      "with --current also slots_changed (slots an engine must rewrite). A policy that\n"
      "splits replicas' tokens by speed (latency_lpt_shares) adds replica_share (per slot,\n"
      "its expert's token fraction), which gpu_load then follows; SGLang's file cannot\n"
      "carry it. A policy that proves its placements (optimal) adds proven_gap (per layer,\n"
      "how far the optimum may lie below its prediction) and stopped_at_limit (layers whose\n"
      "search hit --time-limit), and says so on stderr.\n\n"
      "options");
  options.add_options()("help,h", "show this help")("policy", po::value(&a.policy),
                                                    "placement policy (see `vibesim list`)")(
      "loads", po::value(&a.loads_path),
      "recorded loads: JSON {\"logical_count\": [[...], ...]} (layers x experts) or CSV "
      "layer,expert,count")("gpus", po::value(&a.gpus), "GPUs in the expert-parallel group")(
      "replicas", po::value(&a.replicas),
      "physical expert slots in all (default: the number of experts; more adds redundant "
      "slots)")("groups", po::value(&a.groups)->default_value(1),
                "the model's expert groups (EPLB packs groups onto nodes)")(
      "nodes", po::value(&a.nodes)->default_value(1), "nodes the GPUs span")(
      "gpu-speeds", po::value(&a.speeds_text),
      "relative GPU speeds s1,s2,... : f_g(n) = n / s_g (default: all 1)")(
      "profile", po::value(&a.profile_path),
      "per-GPU latency curves, {\"gpu_latency\": [{\"tokens\": [...], \"latency_ns\": [...]}, "
      "...]} (as `vibesim run` writes in gpu_profile.json)")(
      "out,o", po::value(&a.out_path), "SGLang expert-location file (default: stdout)")(
      "report", po::value(&a.report_path),
      "the placement's report (default with -o: OUT with .json replaced by .report.json)")(
      "current", po::value(&a.current_path),
      "the expert-location file in force (as this command writes it): incremental policies "
      "refine it, and every expert that stays on a GPU keeps its slot")(
      "time-limit", po::value(&a.time_limit_s)->default_value(30),
      "seconds a searching policy (optimal) may spend on one layer; a layer stopped there "
      "keeps its best placement, and the report gives its proven gap");
  return options;
}

// The slot counts must suit the loads (E experts) and the policy.
void check_slots(const PlaceArguments& a, int experts, const PolicyEntry& policy) {
  if (a.gpus < 1 || a.gpus > 4096)
    throw InputError(fmt::format("--gpus: must be in [1, 4096], got {}", a.gpus));
  if (experts % a.gpus != 0 && (a.replicas == experts || !policy.fills_redundant_slots))
    throw InputError(fmt::format(
        "{}: {} experts per layer are not divisible by --gpus {} (policy {} places E/G experts "
        "per GPU{})",
        a.loads_path, experts, a.gpus, a.policy,
        policy.fills_redundant_slots ? " without --replicas" : ""));
  if (a.replicas < experts)
    throw InputError(fmt::format("--replicas: {} is fewer than the {} experts in {}", a.replicas,
                                 experts, a.loads_path));
  const auto most = static_cast<std::int64_t>(experts) * a.gpus;
  if (static_cast<std::int64_t>(a.replicas) > most)
    throw InputError(fmt::format(
        "--replicas: {} slots on {} GPUs would put more than the {} experts of {} on a GPU "
        "(at most {})",
        a.replicas, a.gpus, experts, a.loads_path, most));
  if (a.replicas % a.gpus != 0)
    throw InputError(
        fmt::format("--replicas: {} is not divisible by --gpus {}", a.replicas, a.gpus));
  if (a.groups < 1 || experts % a.groups != 0)
    throw InputError(fmt::format("--groups: {} is not a positive divisor of the {} experts in {}",
                                 a.groups, experts, a.loads_path));
  if (a.nodes < 1 || a.gpus % a.nodes != 0)
    throw InputError(
        fmt::format("--nodes: {} is not a positive divisor of --gpus {}", a.nodes, a.gpus));
}

// The GPUs' latency curves: a profile, speeds, or all equal; and their unit.
struct GpuCurves {
  std::vector<LatencyCurve> curves;
  std::string unit;
};

GpuCurves gpu_curves(const PlaceArguments& a) {
  if (!a.profile_path.empty()) {
    auto curves = read_gpu_latency_profile(a.profile_path);
    if (static_cast<int>(curves.size()) != a.gpus)
      throw InputError(fmt::format("{}: key 'gpu_latency': has {} GPUs, --gpus is {}",
                                   a.profile_path, curves.size(), a.gpus));
    return {std::move(curves), "ns"};
  }
  const auto speeds = !a.speeds_text.empty() ? parse_speeds(a.speeds_text)
                                             : std::vector<double>(std::size_t(a.gpus), 1.0);
  if (static_cast<int>(speeds.size()) != a.gpus)
    throw InputError(
        fmt::format("--gpu-speeds: {} values given, --gpus is {}", speeds.size(), a.gpus));
  GpuCurves out{{}, "tokens at speed 1"};
  for (double s : speeds) out.curves.push_back(LatencyCurve::proportional(s));
  return out;
}

// What the report holds beside the placement, per layer.
struct PlacementReport {
  std::vector<std::vector<int>> logcnt;
  std::vector<std::vector<std::vector<int>>> log2phy;  // padded with -1
  std::vector<std::vector<double>> gpu_load, predicted;
  std::optional<std::int64_t> slots_changed;  // against --current, summed over layers
  std::vector<LayerProof> proofs;             // from a policy that proves its placements
};

PlacementReport make_report(const Placement& p, const PlacementContext& c) {
  PlacementReport r;
  std::size_t max_count = 1;
  for (int l = 0; l < c.num_layers(); ++l) {
    const auto& slots = p.physical_to_logical[static_cast<std::size_t>(l)];
    std::vector<std::vector<int>> where(static_cast<std::size_t>(c.num_experts));
    for (std::size_t s = 0; s < slots.size(); ++s)
      where[static_cast<std::size_t>(slots[s])].push_back(static_cast<int>(s));
    std::vector<int> counts;
    for (const auto& w : where) {
      counts.push_back(static_cast<int>(w.size()));
      max_count = std::max(max_count, w.size());
    }
    r.logcnt.push_back(std::move(counts));
    r.log2phy.push_back(std::move(where));
    r.gpu_load.push_back(gpu_tokens(p, l, c.expert_loads[static_cast<std::size_t>(l)]));
    std::vector<double> latency;
    for (std::size_t g = 0; g < r.gpu_load.back().size(); ++g)
      latency.push_back(c.gpu_latency[g].latency_ns(r.gpu_load.back()[g]));
    r.predicted.push_back(std::move(latency));
  }
  for (auto& layer : r.log2phy)
    for (auto& slots : layer) slots.resize(max_count, -1);
  return r;
}

std::string report_text(const PlacementReport& r, const Placement& p, const std::string& policy,
                        const std::string& unit) {
  std::string text = "{\n";
  text += fmt::format("  \"policy\": {},\n", nlohmann::json(policy).dump());
  text +=
      fmt::format("  \"num_gpus\": {},\n  \"slots_per_gpu\": {},\n", p.num_gpus, p.slots_per_gpu);
  text += fmt::format("  \"log2phy\": {},\n", rows_json(r.log2phy, "  "));
  text += fmt::format("  \"logcnt\": {},\n", rows_json(r.logcnt, "  "));
  // Per-slot token shares exist only in the report: SGLang's file has no key for them.
  if (p.has_replica_shares())
    text += fmt::format("  \"replica_share\": {},\n", rows_json(p.replica_share, "  "));
  text += fmt::format("  \"gpu_load\": {},\n", rows_json(r.gpu_load, "  "));
  text += fmt::format("  \"predicted_latency\": {},\n", rows_json(r.predicted, "  "));
  if (r.slots_changed) text += fmt::format("  \"slots_changed\": {},\n", *r.slots_changed);
  if (!r.proofs.empty()) {
    const auto s = summarize_proofs(r.proofs);
    text += fmt::format("  \"proven_gap\": {},\n", nlohmann::json(s.gaps).dump());
    text += fmt::format("  \"stopped_at_limit\": {},\n", nlohmann::json(s.stopped_layers).dump());
  }
  return text + fmt::format("  \"predicted_latency_unit\": {}\n}}\n", nlohmann::json(unit).dump());
}

// One line: mean over layers of the slowest GPU's prediction and of max/mean tokens.
void print_summary(std::ostream& out, const PlaceArguments& a, const PlacementReport& r,
                   const Placement& p, const std::string& unit) {
  double worst_sum = 0, imbalance_sum = 0;
  for (std::size_t l = 0; l < r.predicted.size(); ++l) {
    worst_sum += *std::max_element(r.predicted[l].begin(), r.predicted[l].end());
    const double total = std::accumulate(r.gpu_load[l].begin(), r.gpu_load[l].end(), 0.0);
    if (total > 0)
      imbalance_sum += *std::max_element(r.gpu_load[l].begin(), r.gpu_load[l].end()) /
                       (total / static_cast<double>(a.gpus));
  }
  const auto layers = static_cast<double>(r.predicted.size());
  const bool in_ns = unit == "ns";
  fmt::print(out,
             "{}: {} layers, {} GPUs x {} slots ({}); mean over layers of max GPU predicted "
             "latency {:.4g} {}, max/mean GPU tokens {:.3f}{}\n",
             a.out_path, r.predicted.size(), a.gpus, p.slots_per_gpu, a.policy,
             worst_sum / layers / (in_ns ? 1e3 : 1.0), in_ns ? "us" : unit, imbalance_sum / layers,
             a.report_path.empty() ? "" : "; report in " + a.report_path);
}

// One line on stderr from a policy that proved its placements: the largest
// proven gap, and the layers whose search stopped at the time limit.
void print_proofs(std::ostream& err, const PlaceArguments& a,
                  const std::vector<LayerProof>& proofs) {
  if (proofs.empty()) return;
  const auto s = summarize_proofs(proofs);
  std::vector<std::string> stopped;
  for (const auto l : s.stopped_layers)
    stopped.push_back(fmt::format("{} ({:.3g} %)", l, 100 * s.gaps[l]));
  fmt::print(err, "{}: largest proven gap to the optimum {:.3g} % (layer {})", a.policy,
             100 * s.widest_gap, s.widest_layer);
  if (stopped.empty())
    fmt::print(err, "; no layer hit the {} s limit\n", a.time_limit_s);
  else
    fmt::print(err, "; {} of {} layers stopped at the {} s limit, proven within: {}\n",
               stopped.size(), proofs.size(), a.time_limit_s, fmt::join(stopped, ", "));
}

// Required and exclusive options and ranges; the report's default path; no
// output over an input.
void check_arguments(PlaceArguments& a, const po::variables_map& vm) {
  for (const char* required : {"policy", "loads", "gpus"})
    if (!vm.count(required)) throw InputError(fmt::format("place: --{} is required", required));
  if (vm.count("gpu-speeds") && vm.count("profile"))
    throw InputError("place: give --gpu-speeds or --profile, not both");
  if (!(a.time_limit_s > 0 && a.time_limit_s <= 1e6))
    throw InputError(
        fmt::format("--time-limit: must be in (0, 1e6] seconds, got {}", a.time_limit_s));
  // No report beside a stream output (-o /dev/stdout): it would land in /dev.
  if (a.report_path.empty() && !a.out_path.empty() && !is_stream_output(a.out_path)) {
    const std::filesystem::path out(a.out_path);
    a.report_path = (out.parent_path() / (out.stem().string() + ".report.json")).string();
  }
  // --current may be rewritten in place (the new placement replaces the old).
  for (const auto& output : {a.out_path, a.report_path})
    for (const auto& input : {a.loads_path, a.profile_path})
      if (!output.empty() && !input.empty()) refuse_output_over_input(output, input);
}

// The placement in force (--current), if given; it must fit the loads' layers
// and experts and the context's slots per GPU.
std::optional<Placement> read_current_placement(const PlaceArguments& a,
                                                const PlacementContext& c) {
  if (a.current_path.empty()) return std::nullopt;
  auto current = read_expert_location_file(a.current_path, a.gpus);
  if (const auto problem = placement_problem(current, c.num_layers(), c.num_experts);
      !problem.empty() || current.slots_per_gpu != c.max_slots_per_gpu)
    throw InputError(fmt::format(
        "{}: key 'physical_to_logical_map': does not fit {} and --gpus {} --replicas {}: {}",
        a.current_path, a.loads_path, a.gpus, a.replicas,
        problem.empty() ? fmt::format("{} slots per GPU", current.slots_per_gpu) : problem));
  return current;
}

}  // namespace

int place_command(const CliContext& context, const std::vector<std::string>& args) {
  PlaceArguments a;
  const auto options = place_options(a);
  const auto vm = parse_command_line(context, args, options);
  if (!vm) return 0;
  check_arguments(a, *vm);
  auto placement_policy = context.registry.make(a.policy);
  const auto loads = read_expert_loads(a.loads_path);
  const int experts = static_cast<int>(loads[0].size());
  if (!vm->count("replicas")) a.replicas = experts;
  check_slots(a, experts, context.registry.entry(a.policy));

  PlacementContext c;
  c.num_experts = experts;
  c.num_gpus = a.gpus;
  c.num_nodes = a.nodes;
  c.expert_groups = a.groups;
  c.max_slots_per_gpu = a.replicas / a.gpus;
  c.expert_loads = loads;
  c.search_seconds_per_layer = a.time_limit_s;
  c.checkpoint = [&context] { context.checkpoint(); };  // SIGINT/SIGTERM stop a long placement
  // A line on stderr at most every 10 s of a long placement (thousands of GPUs).
  ThrottledProgress progress(&context.err, "layers placed", c.num_layers(), 1);
  c.layer_placed = [&progress, &a] { progress.count(a.policy); };
  std::vector<LayerProof> proofs;
  c.proofs = &proofs;
  auto curves = gpu_curves(a);
  c.gpu_latency = std::move(curves.curves);
  const auto current = read_current_placement(a, c);
  if (current) c.current = &*current;
  Placement p = checked_place(a.policy, *placement_policy, c);
  if (current) p = keep_slots_in_place(*current, std::move(p));
  auto report = make_report(p, c);
  if (current) report.slots_changed = slots_changed(*current, p);
  report.proofs = std::move(proofs);  // c.proofs is not read again

  const std::string sglang_text = expert_location_file_text(p);
  std::vector<OutputFile> files;
  const std::string report_json =
      a.report_path.empty() ? "" : report_text(report, p, a.policy, curves.unit);
  if (!a.report_path.empty()) files.push_back({a.report_path, report_json});
  if (!a.out_path.empty()) files.push_back({a.out_path, sglang_text});
  write_files_atomically(files);  // the placement and its report, or neither
  print_proofs(context.err, a, report.proofs);
  if (a.out_path.empty()) {
    context.out << sglang_text;
    return 0;
  }
  print_summary(context.status_stream(a.out_path), a, report, p, curves.unit);
  return 0;
}

}  // namespace vibesim
