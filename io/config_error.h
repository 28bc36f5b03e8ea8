#pragma once
// Errors in user input (configs, traces, command-line values). The command line
// turns these into a one-line message and exit status 2; everything else that
// escapes is a bug (exit status 1).
#include <stdexcept>
#include <string>

namespace vibesim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vibesim
