#!/usr/bin/env bash
# CI: a sweep on 2 MPI ranks writes the same files, byte for byte, as the same
# sweep on threads in one process. Skipped (with a message) when vibesim was
# built without MPI.
#   bash tools/mpi_sweep_check.sh build/release/vibesim
set -euo pipefail
cd "$(dirname "$0")/.."
vibesim=$(realpath "${1:?usage: mpi_sweep_check.sh VIBESIM}")
if ! "$vibesim" --version | grep -q "MPI sweeps: yes"; then
  echo "mpi sweep check: skipped (vibesim built without MPI)"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sweep=configs/sweeps/skew-and-spread.json
# CI runs as root; Open MPI refuses root unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
start=$(date +%s%N)
mpirun -np 2 --oversubscribe "$vibesim" sweep "$sweep" --out "$out/ranks" --quiet >/dev/null
end=$(date +%s%N)
"$vibesim" sweep "$sweep" --out "$out/threads" --jobs 2 --quiet >/dev/null
diff -r "$out/ranks" "$out/threads"
echo "mpi sweep check: ok (2 ranks, $(( (end - start) / 1000000 )) ms; identical to 2 threads)"
