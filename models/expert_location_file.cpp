#include "models/expert_location_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/config_error.h"
#include "io/config_object.h"

namespace vibesim {

namespace {

constexpr std::size_t kMaxLayers = 100'000;
constexpr std::int64_t kMaxExpertId = 65'535;

}  // namespace

Placement read_expert_location_file(const std::filesystem::path& path, int num_gpus) {
  const auto json = read_json_file(path);
  const auto fail = [&](const std::string& key, const std::string& what) {
    return InputError(fmt::format("{}: key '{}': {}", path.string(), key, what));
  };
  if (!json.is_object() || !json.contains("physical_to_logical_map"))
    throw fail("physical_to_logical_map", "missing (expected a JSON object holding it)");
  const auto& map = json["physical_to_logical_map"];
  if (!map.is_array() || map.empty() || map.size() > kMaxLayers)
    throw fail("physical_to_logical_map",
               fmt::format("must be a list of 1 to {} layers of slots", kMaxLayers));
  Placement p;
  p.num_gpus = num_gpus;
  for (std::size_t l = 0; l < map.size(); ++l) {
    const auto key = fmt::format("physical_to_logical_map[{}]", l);
    const auto& row = map[l];
    if (!row.is_array() || row.empty() || row.size() != map[0].size())
      throw fail(key, fmt::format("must be a non-empty list of slots as long as layer 0's ({})",
                                  map[0].is_array() ? map[0].size() : 0));
    std::vector<int> slots;
    slots.reserve(row.size());
    for (std::size_t s = 0; s < row.size(); ++s) {
      const auto& id = row[s];
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
          id.get<std::int64_t>() > kMaxExpertId)
        throw fail(fmt::format("{}[{}]", key, s),
                   fmt::format("must be an expert id in [0, {}], got {}", kMaxExpertId, id.dump()));
      slots.push_back(id.get<int>());
    }
    p.physical_to_logical.push_back(std::move(slots));
  }
  const auto slots = map[0].size();
  if (num_gpus < 1 || slots % static_cast<std::size_t>(num_gpus) != 0)
    throw fail("physical_to_logical_map",
               fmt::format("{} slots per layer are not divisible by {} GPUs", slots, num_gpus));
  p.slots_per_gpu = static_cast<int>(slots / static_cast<std::size_t>(num_gpus));
  return p;
}

std::string expert_location_file_text(const Placement& placement) {
  std::string text = "{\n  \"physical_to_logical_map\": [\n";
  const auto& layers = placement.physical_to_logical;
  for (std::size_t l = 0; l < layers.size(); ++l)
    text += "    " + nlohmann::json(layers[l]).dump() + (l + 1 < layers.size() ? ",\n" : "\n");
  return text + "  ]\n}\n";
}

}  // namespace vibesim
