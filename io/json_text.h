#pragma once
// Text that user input carries into JSON outputs (names, keys, ids, file
// names) must be valid UTF-8: JSON cannot hold other bytes, and writing them
// would fail after the run. Commands check such text where it comes in and
// refuse it as input (exit 2) instead.
#include <string>
#include <string_view>

namespace vibesim {

// Whether `text` can be written as a JSON string (nlohmann::json's own check).
[[nodiscard]] bool is_json_text(std::string_view text);

// InputError "`what`: not valid UTF-8 ..." unless is_json_text(text).
void require_json_text(std::string_view text, const std::string& what);

}  // namespace vibesim
