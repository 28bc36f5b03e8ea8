#include <csignal>
#include <iostream>

#include "studies/rank_group.h"
#include "tools/cli.h"

namespace {

// The one global: a signal handler can only set a flag of this type. The
// command line polls it (CliContext::checkpoint) and unwinds cleanly.
volatile std::sig_atomic_t g_stop_signal = 0;

// The first SIGINT/SIGTERM asks for a clean stop; the handler then restores
// the default action, so a second one ends the process at once even where no
// checkpoint is reached (a staging folder left behind is removed by the next
// run into the same parent folder).
extern "C" void request_stop(int signal) {
  g_stop_signal = signal;
  std::signal(signal, SIG_DFL);
}

}  // namespace

int main(int argc, char** argv) {
  const vibesim::MpiSession mpi(&argc, &argv);  // when started by mpirun
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  return vibesim::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr,
                          &g_stop_signal);
}
