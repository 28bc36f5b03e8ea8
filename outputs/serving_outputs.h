#pragma once
// What a serving run writes (schemas in docs/outputs.md): requests.csv, one
// row per finished request, streamed; summary.json; the tables on stdout.
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "outputs/csv_file.h"
#include "sim/experiment.h"
#include "sim/serving_loop.h"

namespace vibesim {

class RequestsCsv {
 public:
  explicit RequestsCsv(const std::filesystem::path& path);
  void write(const std::string& policy, const RequestRecord& r);
  void close() { file_.close(); }

 private:
  CsvFile file_;
};

struct ServingResult {
  std::size_t requests = 0;  // in the stream served
  std::vector<ServingSummary> policies;
  std::vector<FrontierPoint> frontier;  // empty unless asked for
};

nlohmann::ordered_json serving_summary_json(const Experiment& x, const ServingResult& r);
void print_serving_tables(std::ostream& out, const Experiment& x, const ServingResult& r);

}  // namespace vibesim
