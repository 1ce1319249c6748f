#!/usr/bin/env bash
# Start `dagster dev` on loopback against the demo warehouse, wait for the UI, and save a
# screenshot of the asset graph taken by headless Chromium (Debian's `chromium` package).
# Usage: scripts/ui_screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/asset-graph.png}"
mkdir -p "$(dirname "$out")"
home=$(mktemp -d)
port=3123
printf 'telemetry:\n  enabled: false\nnux:\n  enabled: false\n' > "$home/dagster.yaml"
export DAGSTER_HOME="$home" EXAMFLOW_WAREHOUSE="${EXAMFLOW_WAREHOUSE:-demo/warehouse.duckdb}" EXAMFLOW_EXAMS="${EXAMFLOW_EXAMS:-demo/exams}"
.venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p "$port" >"$home/dev.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$home"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/server_info" >/dev/null && break
  sleep 1
done
curl -sf "http://127.0.0.1:$port/server_info" >/dev/null || { cat "$home/dev.log"; exit 1; }
sleep 5
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$home/chrome" --window-size=1600,1000 \
  --virtual-time-budget=15000 --screenshot="$out" "http://127.0.0.1:$port/asset-groups?groups=true" 2>/dev/null
echo "screenshot: $out"
