#!/usr/bin/env bash
# The README's two commands:
#   bash tools/bootstrap.sh run [vibesim run options...]   set up, build, run the quickstart study
#   bash tools/bootstrap.sh test                           set up, build, run the whole test suite
# Set-up installs any missing Debian package (apt, as root or through sudo),
# configures with the "release" CMake preset and builds with Ninja.
# VIBESIM_WERROR=ON (as CI sets it) turns compiler warnings into errors.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config libboost-graph-dev libboost-program-options-dev
          nlohmann-json3-dev libfmt-dev doctest-dev coinor-libcbc-dev libeigen3-dev
          libopenmpi-dev openmpi-bin libjs-chart.js)
# The test suite also renders reports in a real browser (tools/report_browser_check.sh),
# and CI fuzzes the parsers with clang's libFuzzer (tools/fuzz_check.sh).
[[ ${1:-} == test ]] && packages+=(chromium clang libclang-rt-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake --preset release -DVIBESIM_WERROR="${VIBESIM_WERROR:-OFF}" >/dev/null
cmake --build --preset release

case "${1:-}" in
  run) shift; exec build/release/vibesim run "$@" ;;
  test) exec ctest --preset release -j "$(nproc)" ;;
  *) echo "usage: bash tools/bootstrap.sh run [options] | test" >&2; exit 2 ;;
esac
