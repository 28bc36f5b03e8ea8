#include "io/json_text.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/config_error.h"

namespace vibesim {

bool is_json_text(std::string_view text) {
  try {
    (void)nlohmann::json(std::string(text)).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {  // 316: invalid UTF-8
    return false;
  }
}

void require_json_text(std::string_view text, const std::string& what) {
  if (!is_json_text(text))
    throw InputError(fmt::format(
        "{}: not valid UTF-8 text, which the JSON outputs that record it cannot hold", what));
}

}  // namespace vibesim
