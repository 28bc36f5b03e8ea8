// The libFuzzer driver: one binary for every target in fuzz/fuzz_targets.h,
// chosen by the environment variable VIBESIM_FUZZ_TARGET (tools/fuzz_check.sh
// sets it). VIBESIM_FUZZ_TARGET=list prints each target (name, description,
// seed folders; tab-separated) and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_targets.h"

namespace {

const vibesim::FuzzTarget* g_target = nullptr;  // libFuzzer's entry points take no context
vibesim::FuzzScratch* g_scratch = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("VIBESIM_FUZZ_TARGET");
  if (name != nullptr && std::string_view(name) == "list") {
    for (const auto& t : vibesim::fuzz_targets()) {
      std::printf("%s\t%s\t", t.name, t.description);
      for (const auto& d : t.seed_dirs) std::printf("%s ", d.c_str());
      std::printf("\n");
    }
    std::exit(0);
  }
  g_target = name == nullptr ? nullptr : vibesim::find_fuzz_target(name);
  if (g_target == nullptr) {
    std::fprintf(stderr, "vibesim_fuzz: set VIBESIM_FUZZ_TARGET to a target (list: list)\n");
    std::exit(2);
  }
  g_scratch = new vibesim::FuzzScratch(vibesim::make_fuzz_scratch());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vibesim::run_fuzz_target(*g_target, std::string_view(reinterpret_cast<const char*>(data), size),
                           *g_scratch);
  return 0;
}
