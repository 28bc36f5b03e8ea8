#!/usr/bin/env bash
# Short end-to-end runs of every command under the sanitizers (CI): any ASan
# or UBSan report aborts the program, so a non-zero exit fails the script.
#   bash tools/sanitized_runs.sh build/sanitize/vibesim
set -euo pipefail
cd "$(dirname "$0")/.."
vibesim=$(realpath "${1:?usage: sanitized_runs.sh VIBESIM}")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
step() { echo "sanitized: $*"; "$@" >/dev/null; }
step "$vibesim" run --quiet --out "$out/layers" --set workload.iterations=4 \
  --timeline "$out/layers-timeline.json" --timeline-steps 20
step "$vibesim" run configs/experiments/drift.json --quiet --out "$out/drift" \
  --set workload.iterations=40 --set workload.routing.drift_at_iterations=[10] \
  --set recalibration.check_every=5
step "$vibesim" run configs/experiments/paper-dsv3-sonnet.json --quiet --out "$out/serve" \
  --set serving.requests.count=30 --set workload.calibration_batches=5 \
  --timeline "$out/serve-timeline.json"
step "$vibesim" run configs/experiments/flame-moe-trace.json --quiet --out "$out/trace" \
  --set comparison.seeds=2 --set workload.iterations=4 --jobs 2
step "$vibesim" run --quiet --out "$out/seeds" --seeds 2 --jobs 2 --set workload.iterations=2
step "$vibesim" place --policy latency_lpt --loads "$out/layers/expert_loads.json" --gpus 8 \
  --replicas 288 --profile "$out/layers/gpu_profile.json" -o "$out/place.json"
step "$vibesim" profile fit data/variability/longhorn-v100/sgemm-longhorn-agg.csv \
  --gpu-col uuid --time-col perf --clock-col freq -o "$out/v100.json"
step "$vibesim" profile check mi325x
trace=data/routing/flame-moe-290m/flame-moe-290m_iter5473_layers2-9_32seqx64tok_top6.csv
step "$vibesim" trace convert "$trace" "$out/flame.vbt"
step "$vibesim" trace stats "$out/flame.vbt" --json
step "$vibesim" trace fit "$trace" -o "$out/fit.json"
step "$vibesim" trace generate --model flame-moe-290m --steps 20 --tokens 256 --from "$out/fit.json" \
  "$out/generated.json"
step "$vibesim" run configs/experiments/flame-moe-fitted.json --quiet --out "$out/fitted" \
  --set comparison.seeds=2 --set workload.iterations=4 --jobs 2
cat > "$out/sweep.json" <<'JSON'
{"base": "quickstart", "grid": {"workload.iterations": [2], "workload.routing.zipf_exponent": [0.6, 1.0]}}
JSON
step "$vibesim" sweep "$out/sweep.json" --out "$out/sweep" --jobs 2
step "$vibesim" plan configs/experiments/paper-dsv3-sonnet.json --gpus 8 --seeds 2 --jobs 2 \
  --set serving.requests.count=30 --set workload.calibration_batches=5 \
  --set 'policies=["eplb"]' --set serving.frontier.steps=2 -o "$out/plan.json"
step "$vibesim" list
echo "sanitized runs: ok"
