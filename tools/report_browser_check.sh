#!/usr/bin/env bash
# Renders `vibesim report` pages in headless Chromium (Debian's chromium) and
# fails on a script error, a console error or an empty chart: the page records
# "ok" or the first problem in <body data-status> and its chart count in
# data-charts. Reports of a layer study, a serving run, several seeds and a
# sweep; with --screenshot FILE also saves the layer study's page as a PNG.
# Usage: bash tools/report_browser_check.sh build/release/vibesim [--screenshot FILE]
set -euo pipefail
vibesim=$1
screenshot=${3:-}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "report_browser_check: chromium is not installed (bash tools/bootstrap.sh test installs it)" >&2
  exit 1
fi
out=$(mktemp -d /tmp/vibesim-report-check.XXXXXX)
trap 'rm -rf "$out"' EXIT
flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage
       --user-data-dir="$out/profile" --virtual-time-budget=10000)

"$vibesim" run --quiet --out "$out/layers" --set workload.iterations=8 >/dev/null
"$vibesim" run configs/experiments/paper-dsv3-sonnet.json --quiet --out "$out/serving" \
  --set serving.requests.count=60 --set workload.calibration_batches=5 --frontier \
  --set serving.frontier.steps=3 >/dev/null
"$vibesim" run --quiet --out "$out/seeds" --seeds 3 --set workload.iterations=4 >/dev/null
cat > "$out/sweep.json" <<JSON
{"base": "$(pwd)/configs/experiments/quickstart.json",
 "grid": {"workload.iterations": [4], "comparison.seeds": [2],
          "workload.routing.zipf_exponent": [0.6, 0.8, 1.0]}}
JSON
"$vibesim" sweep "$out/sweep.json" --out "$out/sweep" --quiet >/dev/null

status=0
for kind in layers serving seeds sweep; do
  "$vibesim" report "$out/$kind" -o "$out/$kind.html" >/dev/null
  "$browser" "${flags[@]}" --dump-dom "file://$out/$kind.html" 2>/dev/null > "$out/$kind.dom"
  state=$(grep -o 'data-status="[^"]*"' "$out/$kind.dom" | head -1 || true)
  charts=$(grep -o 'data-charts="[0-9]*"' "$out/$kind.dom" | head -1 | tr -dc 0-9 || true)
  if [[ $state == 'data-status="ok"' && ${charts:-0} -gt 0 ]]; then
    echo "report_browser_check: $kind: ok ($charts charts)"
  else
    echo "report_browser_check: $kind: FAILED (${state:-no status}, ${charts:-0} charts)" >&2
    status=1
  fi
done
if [[ -n $screenshot ]]; then
  "$browser" "${flags[@]}" --hide-scrollbars --window-size=1240,2600 \
    --screenshot="$out/shot.png" "file://$out/layers.html" 2>/dev/null >/dev/null
  cp "$out/shot.png" "$screenshot"
  echo "report_browser_check: screenshot in $screenshot"
fi
exit $status
