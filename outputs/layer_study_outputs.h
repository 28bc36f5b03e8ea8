#pragma once
// What a layer study writes (schemas in docs/outputs.md): layers.csv, one
// row per MoE layer step, streamed; summary.json; the tables on stdout.
#include <filesystem>
#include <ostream>

#include <nlohmann/json.hpp>

#include "outputs/csv_file.h"
#include "sim/experiment.h"
#include "sim/layer_study.h"

namespace vibesim {

class LayersCsv {
 public:
  explicit LayersCsv(const std::filesystem::path& path);
  void write(const LayerRow& row);
  void close() { file_.close(); }

 private:
  CsvFile file_;
};

nlohmann::ordered_json layer_study_summary_json(const Experiment& x, const LayerStudyResult& r);
void print_layer_study_tables(std::ostream& out, const Experiment& x, const LayerStudyResult& r);

}  // namespace vibesim
