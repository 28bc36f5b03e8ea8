#!/usr/bin/env bash
# Real-hardware check (docs/validation.md): on a machine with a GPU, build
# with CUDA, run the device test, calibrate the GPUs, then replay and validate
# the quickstart experiment's layer steps (2 passes, 4 policies) and print the
# error table. Outputs go to $OUT_DIR (default build/hw/check-<time>).
# Not yet run on a GPU, so how long it takes there is unmeasured; without a
# GPU it stops at `vibesim hw devices` with exit status 3.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/hw}
out=${OUT_DIR:-$build/check-$(date -u +%Y%m%dT%H%M%SZ)}
experiment=configs/experiments/quickstart.json

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIBESIM_CUDA=ON -DVIBESIM_MPI=OFF \
  -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" --target vibesim vibesim_hw_device_check
mkdir -p "$out"
vibesim=("$build/vibesim")

"${vibesim[@]}" hw devices | tee "$out/devices.txt"
"$build/tests/vibesim_hw_device_check" | tee "$out/device_check.txt"
"${vibesim[@]}" hw calibrate --model deepseek-v3 --experts-per-gpu 32 -o "$out/profile.json" \
  | tee "$out/calibrate.txt"
"${vibesim[@]}" hw replay "$experiment" --policy vibe --profile "$out/profile.json" \
  --iterations 2 --out "$out/replay" | tee "$out/replay.txt"
"${vibesim[@]}" hw validate "$experiment" --profile "$out/profile.json" --iterations 2 \
  --policies static eplb vibe latency_lpt --out "$out/validation" | tee "$out/validate.txt"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,power.limit \
    --format=csv,noheader
} | tee "$out/machine.txt"
echo "hw-check: outputs in $out"
