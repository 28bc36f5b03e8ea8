#include "traces/expert_load_file.h"

#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "io/config_error.h"
#include "io/config_object.h"
#include "io/csv_columns.h"

namespace vibesim {

namespace {

// A load is a token count: far above any real one, and far enough below the
// largest double that sums over experts and GPUs stay finite (1.7e308 made
// every policy predict an infinite latency, with exit 0).
constexpr double kMaxLoadCount = 1e15;

bool valid_count(double count) {
  return count >= 0 && count <= kMaxLoadCount;
}  // NaN fails

std::vector<std::vector<double>> read_json_loads(const std::filesystem::path& path) {
  const auto json = read_json_file(path);
  const auto file = path.string();
  if (!json.is_object() || !json.contains("logical_count"))
    throw InputError(fmt::format("{}: key 'logical_count': missing", file));
  const auto& rows = json["logical_count"];
  if (!rows.is_array() || rows.empty())
    throw InputError(
        fmt::format("{}: key 'logical_count': expected a non-empty list of layers", file));
  std::vector<std::vector<double>> loads;
  for (std::size_t l = 0; l < rows.size(); ++l) {
    const auto key = fmt::format("logical_count[{}]", l);
    if (!rows[l].is_array() || rows[l].empty())
      throw InputError(fmt::format("{}: key '{}': expected a non-empty list of counts", file, key));
    if (l > 0 && rows[l].size() != loads[0].size())
      throw InputError(fmt::format("{}: key '{}': has {} experts, layer 0 has {} (ragged rows)",
                                   file, key, rows[l].size(), loads[0].size()));
    std::vector<double> row;
    for (std::size_t e = 0; e < rows[l].size(); ++e) {
      const auto& v = rows[l][e];
      if (!v.is_number())
        throw InputError(fmt::format("{}: key '{}[{}]': not a number", file, key, e));
      const double count = v.get<double>();
      if (!valid_count(count))
        throw InputError(fmt::format("{}: key '{}[{}]': count must be in [0, {:g}], got {}", file,
                                     key, e, kMaxLoadCount, count));
      row.push_back(count);
    }
    loads.push_back(std::move(row));
  }
  return loads;
}

// Ids beyond any real model (the model configs allow 10,000 layers and 65,536
// experts), so a stray id cannot ask for gigabytes.
constexpr std::size_t kMaxLoadLayers = 10'000, kMaxLoadExperts = 65'536;
constexpr std::size_t kMaxLoadCells = std::size_t{1} << 24;

std::vector<std::vector<double>> read_csv_loads(const std::filesystem::path& path) {
  CsvLines csv(path);
  csv.require_header("layer,expert,count");
  std::vector<std::vector<double>> loads;
  std::size_t experts = 0;
  while (csv.next()) {
    const auto where = csv.where();
    const auto fields = csv.fields(3);
    const auto index = [&](std::string_view text, const char* column, std::size_t limit) {
      std::size_t v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || v >= limit)
        throw InputError(fmt::format("{}: column '{}' is not an id in [0, {}): '{}'", where, column,
                                     limit, text));
      return v;
    };
    const auto layer = index(fields[0], "layer", kMaxLoadLayers);
    const auto expert = index(fields[1], "expert", kMaxLoadExperts);
    const auto count_text = fields[2];
    double count = 0;
    const auto [ptr, ec] =
        std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (ec != std::errc() || ptr != count_text.data() + count_text.size() || !valid_count(count))
      throw InputError(fmt::format("{}: column 'count' must be a number in [0, {:g}], got '{}'",
                                   where, kMaxLoadCount, count_text));
    if (std::max(layer + 1, loads.size()) * std::max(experts, expert + 1) > kMaxLoadCells)
      throw InputError(
          fmt::format("{}: layer {} and expert {} would make a load matrix of more than {} cells",
                      where, layer, expert, kMaxLoadCells));
    if (layer >= loads.size()) loads.resize(layer + 1);
    experts = std::max(experts, expert + 1);
    auto& row = loads[layer];
    if (row.size() <= expert) row.resize(expert + 1, 0.0);
    row[expert] += count;
    if (!valid_count(row[expert]))
      throw InputError(fmt::format("{}: the rows for layer {}, expert {} sum past {:g}", where,
                                   layer, expert, kMaxLoadCount));
  }
  if (loads.empty()) throw InputError(fmt::format("{}: no data rows", csv.file()));
  for (auto& row : loads) row.resize(experts, 0.0);
  return loads;
}

}  // namespace

std::vector<std::vector<double>> read_expert_loads(const std::filesystem::path& path) {
  if (path.extension() == ".json") return read_json_loads(path);
  return read_csv_loads(path);
}

}  // namespace vibesim
