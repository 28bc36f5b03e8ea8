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

namespace {
// A message that quotes a whole line of input (a CSV header that is really a
// 90 KB JSON document) keeps its start, which names the file, line and key,
// and its end, and says how much was cut between them.
std::string readable_length(std::string message) {
  constexpr std::size_t kHead = 600, kTail = 200;
  if (message.size() <= kHead + kTail + 100) return message;
  // Cut between UTF-8 characters, not inside one.
  const auto continuation = [&](std::size_t i) {
    return (static_cast<unsigned char>(message[i]) & 0xC0) == 0x80;
  };
  auto head = kHead, tail = message.size() - kTail;
  while (head > 0 && continuation(head)) --head;
  while (tail < message.size() && continuation(tail)) ++tail;
  return message.substr(0, head) + fmt::format(" [... {} bytes cut ...] ", tail - head) +
         message.substr(tail);
}
}  // namespace

InputError::InputError(const std::string& message)
    : std::runtime_error(readable_length(escape_control_characters(message))) {}

}  // namespace vibesim
