// `vibesim list`: what can be named in an experiment, with one-line descriptions.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "io/config_object.h"
#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "sim/serving_spec.h"
#include "studies/fidelity.h"
#include "studies/quality_check.h"
#include "tools/cli.h"
#include "traces/routing_spec.h"
#include "traces/trace_format.h"
#include "traces/trace_mapping.h"

namespace vibesim {

namespace {

std::vector<std::filesystem::path> json_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

template <class Enum, std::size_t N>
void print_choices(std::ostream& out, const std::string& title, const ChoiceTable<Enum, N>& table) {
  fmt::print(out, "\n{}:\n", title);
  for (const auto& c : table) fmt::print(out, "  {:<20} {}\n", c.name, c.description);
}

}  // namespace

int list_command(const CliContext& context, const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    fmt::print(
        context.out,
        "vibesim list: the models, GPUs, variability profiles, shipped experiments, placement\n"
        "policies and every other choice an experiment can name, with descriptions\n"
        "(configs from {})\n",
        context.locations.config_dir.string());
    return 0;
  }
  if (!args.empty()) throw InputError(fmt::format("list: unexpected argument '{}'", args[0]));
  auto& out = context.out;
  fmt::print(out, "models ({}):\n", (context.locations.config_dir / "models").string());
  for (const auto& path : json_files(context.locations.config_dir / "models")) {
    const auto m = load_moe_model(path);
    fmt::print(out, "  {:<20} {}\n", m.name, m.description);
  }
  fmt::print(out, "\ngpus ({}):\n", (context.locations.config_dir / "gpus").string());
  std::vector<std::pair<std::string, std::string>> profiles;
  for (const auto& path : json_files(context.locations.config_dir / "gpus")) {
    const auto sku = load_gpu_sku(path);
    fmt::print(out, "  {:<20} {}\n", sku.name, sku.description);
    for (const auto& [name, json] : sku.profiles)
      profiles.emplace_back(sku.name + "/" + name, json.value("description", std::string{}));
  }
  fmt::print(out, "\nvariability profiles (gpu/profile):\n");
  for (const auto& [name, description] : profiles)
    fmt::print(out, "  {:<28} {}\n", name, description);
  const auto experiments = context.locations.config_dir / "experiments";
  fmt::print(out, "\nexperiments ({}; vibesim run NAME):\n", experiments.string());
  for (const auto& path : json_files(experiments))
    fmt::print(out, "  {:<32} {}\n", path.stem().string(),
               read_json_file(path).value("description", std::string{}));
  fmt::print(out, "\npolicies:\n");
  for (const auto& e : context.registry.entries()) {
    fmt::print(out, "  {:<20} {}\n", e.name, e.description);
    if (!e.unavailable.empty()) fmt::print(out, "  {:<20} (unavailable: {})\n", "", e.unavailable);
  }
  print_choices(out, "routing sources (workload.routing.source)", kRoutingSources);
  print_choices(out, "popularity distributions (workload.routing.distribution)",
                kPopularityDistributions);
  print_choices(out, "trace formats (read by content; vibesim trace convert --to)", kTraceFormats);
  print_choices(out, "trace layer mappings (workload.routing.layer_mapping)", kLayerMappings);
  print_choices(out, "trace expert mappings (workload.routing.expert_mapping)", kExpertMappings);
  print_choices(out, "recalibration controllers (recalibration.controller)",
                kRecalibrationControllers);
  print_choices(out, "serving modes (serving.mode)", kServingModes);
  print_choices(out, "deployments (serving.deployment)", kDeployments);
  print_choices(out, "request sources (serving.requests.source)", kRequestSources);
  print_choices(out, "length distributions (serving.requests.lengths.kind)", kLengthDistributions);
  print_choices(out, "fittable SKU constants (fidelity facts file: parameters)",
                kFittableSkuParameters);
  print_choices(out, "fact metrics (fidelity facts file: facts[].metric)", kFactMetrics);
  print_choices(out, "check kinds (vibesim check baseline: checks[].kind)", kCheckKinds);
  return 0;
}

}  // namespace vibesim
