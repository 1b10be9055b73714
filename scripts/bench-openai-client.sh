#!/usr/bin/env bash
# The OpenAI client's own cost: requests per second and client CPU per request at concurrency
# 1, 16 and 256, streamed and not, ours (crates/backend-openai/examples/client_cost.rs) against
# the `openai` package with asyncio (scripts/openai_client_cost.py), against the same loopback
# server that answers at once (the example's `serve`, in its own process: its CPU is in neither
# client's figure). One run, one table; the ratio is ours / theirs in requests per client
# CPU-second.
#   python3 -m venv /tmp/oaivenv && /tmp/oaivenv/bin/pip install --only-binary=:all: openai==2.8.1
#   PYTHON=/tmp/oaivenv/bin/python bash scripts/bench-openai-client.sh [OUR_REQUESTS] [THEIR_REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
ours_n=${1:-5000}
theirs_n=${2:-1000}
python=${PYTHON:-python3}
"$python" -c 'import openai' 2>/dev/null || {
  echo "$python has no openai package: pip install --only-binary=:all: openai==2.8.1" >&2
  exit 2
}
cargo build -q --release -p powerhungry-backend-openai --example client_cost
bin=target/release/examples/client_cost
dir=$(mktemp -d)
"$bin" serve "$dir/port" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$dir/port")/v1"
echo "| mode | concurrency | ours req/s | ours req per CPU-s | theirs req/s | theirs req per CPU-s | ratio (per CPU-s) | failed ours/theirs |"
echo "|---|---|---|---|---|---|---|---|"
for mode in stream plain; do
  for c in 1 16 256; do
    ours=$("$bin" run "$url" "$ours_n" "$c" "$mode")
    theirs=$("$python" scripts/openai_client_cost.py "$url" "$theirs_n" "$c" "$mode")
    python3 - "$mode" "$c" "$ours" "$theirs" <<'PY'
import json, sys
mode, c, o, t = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(f"| {mode} | {c} | {o['requests_per_s']:.0f} | {o['requests_per_cpu_s']:.0f} | "
      f"{t['requests_per_s']:.0f} | {t['requests_per_cpu_s']:.0f} | "
      f"{o['requests_per_cpu_s'] / t['requests_per_cpu_s']:.1f} | {o['failed']}/{t['failed']} |")
PY
  done
done
echo
echo "ours: $ours_n requests per cell; theirs ($("$python" -c 'import openai; print("openai", openai.__version__)')): $theirs_n"
