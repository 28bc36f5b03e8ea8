// sglang_json: {"logical_count": [layer][expert]} or [step][layer][expert],
// the expert-distribution JSON SGLang's --init-expert-location accepts.
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/config_error.h"
#include "traces/formats/trace_formats.h"

namespace vibesim {

namespace {

constexpr std::uintmax_t kMaxJsonBytes = std::uintmax_t{512} << 20;

nlohmann::json parse_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot read: {}", path.string(), ec.message()));
  if (bytes > kMaxJsonBytes)
    throw InputError(
        fmt::format("{}: {} bytes is more than the {} MiB a JSON trace may have; "
                    "convert it to the binary format",
                    path.string(), bytes, kMaxJsonBytes >> 20));
  std::ifstream in(path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // syntax, or a number out of range
    throw InputError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
}

// Checks `rows` is an array of `width`-long arrays of counts (width 0: take
// the first row's) and appends them to `out`.
void append_matrix(const nlohmann::json& rows, std::size_t& width, const std::string& where,
                   std::vector<std::int32_t>& out) {
  if (!rows.is_array() || rows.empty())
    throw InputError(fmt::format("{}: expected a non-empty array of per-expert counts", where));
  for (std::size_t l = 0; l < rows.size(); ++l) {
    const auto& row = rows[l];
    const auto at = fmt::format("{}[{}]", where, l);
    if (!row.is_array() || row.empty())
      throw InputError(fmt::format("{}: expected an array of per-expert counts", at));
    if (width == 0) width = row.size();
    if (row.size() != width)
      throw InputError(fmt::format("{}: {} experts, the first row has {}", at, row.size(), width));
    for (std::size_t e = 0; e < row.size(); ++e) {
      const auto& v = row[e];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 ||
          v.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max())
        throw InputError(fmt::format("{}[{}]: not a count in [0, 2^31): {}", at, e, v.dump()));
      out.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
    }
  }
}

}  // namespace

CountTrace read_sglang_json(const std::filesystem::path& path, int expert_limit) {
  const auto root = parse_file(path);
  const auto where = fmt::format("{}: logical_count", path.string());
  if (!root.is_object() || !root.contains("logical_count"))
    throw InputError(
        fmt::format("{}: expected an object with the key 'logical_count'", path.string()));
  const auto& data = root["logical_count"];
  const bool has_steps = data.is_array() && !data.empty() && data[0].is_array() &&
                         !data[0].empty() && data[0][0].is_array();
  CountTrace trace;
  std::size_t width = 0, layers = 0;
  if (has_steps) {
    for (std::size_t s = 0; s < data.size(); ++s) {
      const auto& step = data[s];
      if (!step.is_array() || (layers != 0 && step.size() != layers))
        throw InputError(fmt::format("{}[{}]: expected {} layers", where, s, layers));
      layers = step.size();
      append_matrix(step, width, fmt::format("{}[{}]", where, s), trace.counts);
    }
    trace.steps = data.size();
  } else {
    append_matrix(data, width, where, trace.counts);
    layers = data.size();
    trace.steps = 1;
  }
  if (width > static_cast<std::size_t>(expert_limit))
    throw InputError(
        fmt::format("{}: {} experts, more than the {} allowed", where, width, expert_limit));
  trace.num_experts = static_cast<int>(width);
  for (std::size_t l = 0; l < layers; ++l) trace.layer_ids.push_back(static_cast<std::int64_t>(l));
  return trace;
}

std::string write_sglang_json(const CountTrace& trace) {
  nlohmann::json steps = nlohmann::json::array();
  for (std::size_t s = 0; s < trace.steps; ++s) {
    nlohmann::json layers = nlohmann::json::array();
    for (std::size_t l = 0; l < trace.layer_ids.size(); ++l) {
      const auto counts = trace.at(s, l);
      layers.push_back(std::vector<std::int32_t>(counts.begin(), counts.end()));
    }
    steps.push_back(std::move(layers));
  }
  return nlohmann::json{{"logical_count", std::move(steps)}}.dump() + "\n";
}

}  // namespace vibesim
