#pragma once
// A CSV file written row by row (streamed: a run never holds its rows in
// memory), with its header first. close() flushes and reports a failed write.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace vibesim {

class CsvFile {
 public:
  // Throws InputError naming `path` if it cannot be created.
  CsvFile(const std::filesystem::path& path, const std::string& header);
  [[nodiscard]] std::FILE* stream() const { return file_.get(); }
  // Throws if anything written was lost.
  void close();

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::filesystem::path path_;
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace vibesim
