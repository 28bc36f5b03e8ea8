#include "outputs/csv_file.h"

#include <stdexcept>

#include <fmt/format.h>

#include "io/config_error.h"

namespace vibesim {

CsvFile::CsvFile(const std::filesystem::path& path, const std::string& header)
    : path_(path), file_(std::fopen(path.c_str(), "w")) {
  if (!file_) throw InputError(fmt::format("{}: cannot write", path.string()));
  fmt::print(file_.get(), "{}\n", header);
}

void CsvFile::close() {
  if (!file_) return;
  const bool ok = std::ferror(file_.get()) == 0 && std::fflush(file_.get()) == 0;
  file_.reset();
  if (!ok) throw std::runtime_error(fmt::format("{}: write failed", path_.string()));
}

}  // namespace vibesim
