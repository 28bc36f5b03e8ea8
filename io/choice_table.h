#pragma once
// An enumerated config setting: each value with the name configs use and a
// one-line description (`vibesim list` prints them). Parsed once at load time
// (ConfigObject::choice); the same table writes the name back.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vibesim {

template <class Enum>
struct Choice {
  const char* name;
  Enum value;
  const char* description;
};

template <class Enum, std::size_t N>
using ChoiceTable = std::array<Choice<Enum>, N>;

template <class Enum, std::size_t N>
const char* name_of(const ChoiceTable<Enum, N>& table, Enum value) {
  for (const auto& c : table)
    if (c.value == value) return c.name;
  return "?";
}

// The value named `name`, or nullopt.
template <class Enum, std::size_t N>
std::optional<Enum> find_choice(const ChoiceTable<Enum, N>& table, std::string_view name) {
  for (const auto& c : table)
    if (name == c.name) return c.value;
  return std::nullopt;
}

template <class Enum, std::size_t N>
std::string names_of(const ChoiceTable<Enum, N>& table) {
  std::string out;
  for (const auto& c : table) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

}  // namespace vibesim
