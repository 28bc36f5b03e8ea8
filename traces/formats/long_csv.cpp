// long_csv: layer,expert,count — aggregate counts, one step.
#include <fmt/format.h>

#include "io/csv_columns.h"
#include "traces/formats/count_cells.h"
#include "traces/formats/trace_formats.h"

namespace vibesim {

CountTrace read_long_csv(const std::filesystem::path& path, int expert_limit) {
  CsvLines lines(path);
  lines.require_header("layer,expert,count");
  CountCells cells(expert_limit);
  const char* names[3] = {"layer", "expert", "count"};
  while (lines.next()) {
    const auto where = lines.where();
    const auto text = lines.fields(3);
    std::int64_t f[3];
    for (std::size_t i = 0; i < 3; ++i) f[i] = parse_count_field(text[i], where, names[i]);
    cells.add(0, f[0], f[1], f[2], where);
  }
  return cells.to_trace(path);
}

std::string write_long_csv(const CountTrace& trace) {
  std::string out = "layer,expert,count\n";
  for (std::size_t l = 0; l < trace.layer_ids.size(); ++l)
    for (std::size_t e = 0; e < static_cast<std::size_t>(trace.num_experts); ++e) {
      std::int64_t total = 0;
      for (std::size_t s = 0; s < trace.steps; ++s) total += trace.at(s, l)[e];
      fmt::format_to(std::back_inserter(out), "{},{},{}\n", trace.layer_ids[l], e, total);
    }
  return out;
}

}  // namespace vibesim
