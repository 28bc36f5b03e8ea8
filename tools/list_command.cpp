// `vibesim list`: what can be named in an experiment, with one-line descriptions.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "io/config_object.h"
#include "models/gpu_sku.h"
#include "models/moe_model.h"
#include "tools/cli.h"

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

}  // namespace

int list_command(const CliContext& context, const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    fmt::print(context.out,
               "vibesim list: the models, GPUs, variability profiles and placement policies\n"
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
  fmt::print(out, "\npolicies:\n");
  for (const auto& e : context.registry.entries()) {
    fmt::print(out, "  {:<20} {}\n", e.name, e.description);
    if (!e.unavailable.empty()) fmt::print(out, "  {:<20} (unavailable: {})\n", "", e.unavailable);
  }
  return 0;
}

}  // namespace vibesim
