// `vibesim place`: one policy on recorded loads of a real deployment, written
// as an expert-location file SGLang can load (--init-expert-location).
#include <algorithm>
#include <numeric>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <boost/program_options.hpp>

#include "io/atomic_file.h"
#include "io/config_error.h"
#include "models/gpu_latency_profile.h"
#include "tools/cli.h"
#include "traces/expert_load_file.h"

namespace vibesim {

namespace po = boost::program_options;

namespace {

std::vector<double> parse_speeds(const std::string& text) {
  std::vector<double> speeds;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    std::size_t used = 0;
    double s = 0;
    try {
      s = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !(s > 0) || !std::isfinite(s))
      throw InputError(
          fmt::format("--gpu-speeds: '{}' is not a positive number (expected s1,s2,...)", item));
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

}  // namespace

int place_command(const CliContext& context, const std::vector<std::string>& args) {
  po::options_description options(
      "vibesim place --policy NAME --loads FILE --gpus G [options]\n\n"
      "Places experts for recorded loads and writes the expert-location file SGLang's\n"
      "--init-expert-location reads: {\"physical_to_logical_map\": layers x slots} and nothing\n"
      "else (slot s on GPU s / slots_per_gpu). A report beside it (--report, default\n"
      "OUT.report.json with -o) has log2phy (padded with -1), logcnt, gpu_load (tokens per\n"
      "GPU, replicas sharing evenly) and predicted_latency (f_g of those tokens per GPU).\n\n"
      "options");
  std::string policy, loads_path, speeds_text, profile_path, out_path, report_path;
  int gpus = 0, replicas = 0, groups = 1, nodes = 1;
  options.add_options()("help,h", "show this help")("policy", po::value(&policy),
                                                    "placement policy (see `vibesim list`)")(
      "loads", po::value(&loads_path),
      "recorded loads: JSON {\"logical_count\": [[...], ...]} (layers x experts) or CSV "
      "layer,expert,count")("gpus", po::value(&gpus), "GPUs in the expert-parallel group")(
      "replicas", po::value(&replicas),
      "physical expert slots in all (default: the number of experts; more adds redundant "
      "slots)")("groups", po::value(&groups)->default_value(1),
                "the model's expert groups (EPLB packs groups onto nodes)")(
      "nodes", po::value(&nodes)->default_value(1), "nodes the GPUs span")(
      "gpu-speeds", po::value(&speeds_text),
      "relative GPU speeds s1,s2,... : f_g(n) = n / s_g (default: all 1)")(
      "profile", po::value(&profile_path),
      "per-GPU latency curves, {\"gpu_latency\": [{\"tokens\": [...], \"latency_ns\": [...]}, "
      "...]} (as `vibesim run` writes in gpu_profile.json)")(
      "out,o", po::value(&out_path), "SGLang expert-location file (default: stdout)")(
      "report", po::value(&report_path),
      "the placement's report (default with -o: OUT with .json replaced by .report.json)");
  const auto vm = parse_command_line(context, args, options);
  if (!vm) return 0;
  for (const char* required : {"policy", "loads", "gpus"})
    if (!vm->count(required)) throw InputError(fmt::format("place: --{} is required", required));
  if (vm->count("gpu-speeds") && vm->count("profile"))
    throw InputError("place: give --gpu-speeds or --profile, not both");
  auto placement_policy = context.registry.make(policy);

  const auto loads = read_expert_loads(loads_path);
  const int experts = static_cast<int>(loads[0].size());
  if (gpus < 1 || gpus > 4096)
    throw InputError(fmt::format("--gpus: must be in [1, 4096], got {}", gpus));
  if (!vm->count("replicas")) replicas = experts;
  if (experts % gpus != 0 &&
      (replicas == experts || !context.registry.entry(policy).fills_redundant_slots))
    throw InputError(fmt::format(
        "{}: {} experts per layer are not divisible by --gpus {} (policy {} places E/G experts "
        "per GPU{})",
        loads_path, experts, gpus, policy,
        context.registry.entry(policy).fills_redundant_slots ? " without --replicas" : ""));
  if (replicas < experts)
    throw InputError(fmt::format("--replicas: {} is fewer than the {} experts in {}", replicas,
                                 experts, loads_path));
  if (static_cast<std::int64_t>(replicas) > static_cast<std::int64_t>(experts) * gpus)
    throw InputError(fmt::format(
        "--replicas: {} slots on {} GPUs would put more than the {} experts of {} on a GPU "
        "(at most {})",
        replicas, gpus, experts, loads_path, static_cast<std::int64_t>(experts) * gpus));
  if (replicas % gpus != 0)
    throw InputError(fmt::format("--replicas: {} is not divisible by --gpus {}", replicas, gpus));
  if (groups < 1 || experts % groups != 0)
    throw InputError(fmt::format("--groups: {} does not divide the {} experts in {}", groups,
                                 experts, loads_path));
  if (nodes < 1 || gpus % nodes != 0)
    throw InputError(fmt::format("--nodes: {} does not divide --gpus {}", nodes, gpus));

  PlacementContext c;
  c.num_experts = experts;
  c.num_gpus = gpus;
  c.num_nodes = nodes;
  c.expert_groups = groups;
  c.max_slots_per_gpu = replicas / gpus;
  c.expert_loads = loads;
  std::string latency_unit = "ns";
  if (vm->count("profile")) {
    c.gpu_latency = read_gpu_latency_profile(profile_path);
    if (static_cast<int>(c.gpu_latency.size()) != gpus)
      throw InputError(fmt::format("{}: key 'gpu_latency': has {} GPUs, --gpus is {}", profile_path,
                                   c.gpu_latency.size(), gpus));
  } else {
    const auto speeds = vm->count("gpu-speeds") ? parse_speeds(speeds_text)
                                                : std::vector<double>(std::size_t(gpus), 1.0);
    if (static_cast<int>(speeds.size()) != gpus)
      throw InputError(
          fmt::format("--gpu-speeds: {} values given, --gpus is {}", speeds.size(), gpus));
    for (double s : speeds) c.gpu_latency.push_back(LatencyCurve::proportional(s));
    latency_unit = "tokens at speed 1";
  }

  const Placement p = placement_policy->place(c);
  std::vector<std::vector<int>> logcnt;
  std::vector<std::vector<std::vector<int>>> log2phy;
  std::vector<std::vector<double>> gpu_load, predicted;
  std::size_t max_count = 1;
  for (int l = 0; l < c.num_layers(); ++l) {
    const auto& slots = p.physical_to_logical[static_cast<std::size_t>(l)];
    std::vector<std::vector<int>> where(static_cast<std::size_t>(experts));
    for (std::size_t s = 0; s < slots.size(); ++s)
      where[static_cast<std::size_t>(slots[s])].push_back(static_cast<int>(s));
    std::vector<int> counts;
    for (const auto& w : where) {
      counts.push_back(static_cast<int>(w.size()));
      max_count = std::max(max_count, w.size());
    }
    logcnt.push_back(std::move(counts));
    log2phy.push_back(std::move(where));
    gpu_load.push_back(gpu_tokens(p, l, loads[static_cast<std::size_t>(l)]));
    std::vector<double> latency;
    for (std::size_t g = 0; g < gpu_load.back().size(); ++g)
      latency.push_back(c.gpu_latency[g].latency_ns(gpu_load.back()[g]));
    predicted.push_back(std::move(latency));
  }
  for (auto& layer : log2phy)
    for (auto& slots : layer) slots.resize(max_count, -1);

  // SGLang passes every top-level key to its mapping initialiser, which takes
  // physical_to_logical_map alone: the file it reads holds nothing else.
  const std::string sglang_text = fmt::format("{{\n  \"physical_to_logical_map\": {}\n}}\n",
                                              rows_json(p.physical_to_logical, "  "));
  std::string text = "{\n";
  text += fmt::format("  \"policy\": {},\n", nlohmann::json(policy).dump());
  text +=
      fmt::format("  \"num_gpus\": {},\n  \"slots_per_gpu\": {},\n", p.num_gpus, p.slots_per_gpu);
  text += fmt::format("  \"log2phy\": {},\n", rows_json(log2phy, "  "));
  text += fmt::format("  \"logcnt\": {},\n", rows_json(logcnt, "  "));
  text += fmt::format("  \"gpu_load\": {},\n", rows_json(gpu_load, "  "));
  text += fmt::format("  \"predicted_latency\": {},\n", rows_json(predicted, "  "));
  text +=
      fmt::format("  \"predicted_latency_unit\": {}\n}}\n", nlohmann::json(latency_unit).dump());

  if (report_path.empty() && !out_path.empty()) {
    const std::filesystem::path out(out_path);
    report_path = (out.parent_path() / (out.stem().string() + ".report.json")).string();
  }
  if (!report_path.empty()) write_file_atomically(report_path, text);
  if (out_path.empty()) {
    context.out << sglang_text;
    return 0;
  }
  write_file_atomically(out_path, sglang_text);
  double worst_sum = 0, imbalance_sum = 0;
  for (std::size_t l = 0; l < predicted.size(); ++l) {
    worst_sum += *std::max_element(predicted[l].begin(), predicted[l].end());
    const double total = std::accumulate(gpu_load[l].begin(), gpu_load[l].end(), 0.0);
    if (total > 0)
      imbalance_sum += *std::max_element(gpu_load[l].begin(), gpu_load[l].end()) /
                       (total / static_cast<double>(gpus));
  }
  const auto layers = static_cast<double>(predicted.size());
  const bool in_ns = latency_unit == "ns";
  fmt::print(context.out,
             "{}: {} layers, {} GPUs x {} slots ({}); mean over layers of max GPU predicted "
             "latency {:.4g} {}, max/mean GPU tokens {:.3f}; report in {}\n",
             out_path, predicted.size(), gpus, p.slots_per_gpu, policy,
             worst_sum / layers / (in_ns ? 1e3 : 1.0), in_ns ? "us" : latency_unit,
             imbalance_sum / layers, report_path);
  return 0;
}

}  // namespace vibesim
