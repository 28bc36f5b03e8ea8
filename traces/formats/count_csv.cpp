// count_csv: step,layer,expert,count — one row per step, layer and expert.
#include <fmt/format.h>

#include "io/csv_columns.h"
#include "traces/formats/count_cells.h"
#include "traces/formats/trace_formats.h"

namespace vibesim {

CountTrace read_count_csv(const std::filesystem::path& path, int expert_limit) {
  CsvLines lines(path);
  lines.require_header("step,layer,expert,count");
  CountCells cells(expert_limit);
  const char* names[4] = {"step", "layer", "expert", "count"};
  while (lines.next()) {
    const auto where = lines.where();
    const auto text = lines.fields(4);
    std::int64_t f[4];
    for (std::size_t i = 0; i < 4; ++i) f[i] = parse_count_field(text[i], where, names[i]);
    cells.add(f[0], f[1], f[2], f[3], where);
  }
  return cells.to_trace(path);
}

std::string write_count_csv(const CountTrace& trace) {
  std::string out = "step,layer,expert,count\n";
  for (std::size_t s = 0; s < trace.steps; ++s)
    for (std::size_t l = 0; l < trace.layer_ids.size(); ++l) {
      const auto counts = trace.at(s, l);
      for (std::size_t e = 0; e < counts.size(); ++e)
        if (counts[e] != 0)
          fmt::format_to(std::back_inserter(out), "{},{},{},{}\n", s, trace.layer_ids[l], e,
                         counts[e]);
    }
  return out;
}

}  // namespace vibesim
