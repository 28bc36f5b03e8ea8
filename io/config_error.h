#pragma once
// Errors in user input (configs, traces, command-line values). The command line
// turns these into a one-line message and exit status 2; everything else that
// escapes is a bug (exit status 1).
#include <stdexcept>
#include <string>

namespace vibesim {

class InputError : public std::runtime_error {
 public:
  // Messages quote user input (keys, values, file names) that may hold line
  // breaks or other control characters; they are shown escaped ("\n",
  // "\x1b") so that the message stays one line. One over 900 characters (a
  // quoted line can be 16 MiB) keeps its first 600 and last 200 bytes, and
  // says how many were cut between them.
  explicit InputError(const std::string& message);
};

// `text` with every control character (below 0x20, and 0x7f) written as a
// C-style escape; other bytes unchanged.
std::string escape_control_characters(const std::string& text);

}  // namespace vibesim
