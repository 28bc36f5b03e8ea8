#!/usr/bin/env bash
# Fuzzes every parser of outside input for a bounded time (CI):
#   bash tools/fuzz_check.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds the "fuzz" preset (clang, libFuzzer, ASan + UBSan), then runs each
# target of fuzz/fuzz_targets.h from its seed corpus, two at a time. Any
# crash, contract violation, sanitizer report, leak, hang (> 10 s on one
# input) or allocation over 2 GiB fails the script; the input that did it is
# kept under build/fuzz/findings/<target>/. Copy it to
# fuzz/regressions/<target>/ with the fix, so the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
fuzzer=build/fuzz/fuzz/vibesim_fuzz
work=build/fuzz/work
findings=build/fuzz/findings
rm -rf "$work"
mkdir -p "$work" "$findings"
trap 'rm -rf "${TMPDIR:-/tmp}"/vibesim-fuzz-*' EXIT  # the targets' scratch folders

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(VIBESIM_FUZZ_TARGET=list "$fuzzer" 2>/dev/null | cut -f1)
fi

fuzz_one() {
  local target=$1 seeds=()
  mkdir -p "$work/$target/corpus" "$findings/$target"
  read -r -a seeds <<<"$(VIBESIM_FUZZ_TARGET=list "$fuzzer" 2>/dev/null | awk -F'\t' -v t="$target" '$1 == t { print $3 }')"
  local dirs=()
  for d in "${seeds[@]}" "fuzz/regressions/$target"; do [[ -d $d ]] && dirs+=("$d"); done
  if VIBESIM_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=1 \
    "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings/$target/" \
    "$work/$target/corpus" "${dirs[@]}" >"$work/$target.log" 2>&1; then
    echo "fuzz: $target ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$') inputs in ${seconds} s)"
  else
    echo "fuzz: $target FAILED; log $work/$target.log, input under $findings/$target/"
    grep -E "ERROR|SUMMARY|violation|terminate|what\(\)" "$work/$target.log" | head -5 | sed 's/^/  /'
    return 1
  fi
}

status=0
pids=()
names=()
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  pids+=($!)
  names+=("$target")
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
((status == 0)) && echo "fuzz: all ${#targets[@]} targets ok"
exit $status
