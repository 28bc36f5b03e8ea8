#include <iostream>

#include "studies/rank_group.h"
#include "tools/cli.h"

int main(int argc, char** argv) {
  const vibesim::MpiSession mpi(&argc, &argv);  // when started by mpirun
  const auto* stop_signal = vibesim::install_stop_signal_handlers();
  return vibesim::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr,
                          stop_signal);
}
