#include "io/config_error.h"

#include <fmt/format.h>

namespace vibesim {

std::string escape_control_characters(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out;
}

InputError::InputError(const std::string& message)
    : std::runtime_error(escape_control_characters(message)) {}

}  // namespace vibesim
