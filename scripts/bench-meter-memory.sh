#!/usr/bin/env bash
# Benchmark (not a test) of the meter's own memory and CPU, before and after the bounded-memory
# and cheap-sampling work of issue 14 (items 11 and 13).
#
#   scripts/bench-meter-memory.sh [--before REV] [--seconds N] [--day-samples N]
#
# For the "before" meter, REV's crates/meter is exported (git archive) into a temp tree and built
# there with the same example program (crates/meter/examples/sample_cost.rs, minus the streaming
# flags that REV lacks). Both are release builds of the meter crate alone.
#
# Runs, each one process, one JSON line (meter_cpu_s = getrusage user+sys of the whole process,
# max_rss_kib = its peak RSS, rss_before_close_kib = RSS with the window still open):
#   real-1ms    real sensors (/sys, /proc), 1 ms sampling, one window open for N s (default 600:
#               "10 minutes at 1 ms"; pass --seconds 60 for a short run and extrapolate per sample)
#   day-100ms   a fake counter polled as fast as possible for --day-samples samples (default
#               864000 = a day at 100 ms), one window open throughout, as `measure` has
#   day-stream  (after only) the same with the samples streamed to a file (SampleSink) and kept
#               by no window: flat memory
#   10ms-20s    real sensors, 10 ms sampling for 20 s (item 13's figure), machine and process scope
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=f252691
SECONDS_1MS=600
DAY=864000
while [ $# -gt 0 ]; do
    case "$1" in
        --before) BEFORE=$2; shift 2 ;;
        --seconds) SECONDS_1MS=$2; shift 2 ;;
        --day-samples) DAY=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
TMP=${TMPDIR:-/tmp}/bench-meter-memory
mkdir -p "$TMP"

echo "== building after (work tree) and before ($BEFORE)" >&2
cargo build --release -q -p powerhungry-meter --example sample_cost
AFTER_BIN=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/sample_cost
rm -rf "$TMP/before"
mkdir -p "$TMP/before"
git archive "$BEFORE" | tar -x -C "$TMP/before"
mkdir -p "$TMP/before/crates/meter/examples"
sed '/STREAM-BEGIN/,/STREAM-END/d' crates/meter/examples/sample_cost.rs \
    > "$TMP/before/crates/meter/examples/sample_cost.rs"
(cd "$TMP/before" && CARGO_TARGET_DIR="$TMP/before-target" \
    cargo build --release -q -p powerhungry-meter --example sample_cost)
BEFORE_BIN=$TMP/before-target/release/examples/sample_cost

run() { # label bin args...
    local label=$1 bin=$2
    shift 2
    printf '%-22s %s\n' "$label" "$("$bin" "$@")"
}

echo "== runs (before = $BEFORE, after = $(git rev-parse --short HEAD) + work tree)"
run "before day-100ms" "$BEFORE_BIN" --simulate "$DAY"
run "after  day-100ms" "$AFTER_BIN" --simulate "$DAY"
run "after  day-stream" "$AFTER_BIN" --simulate "$DAY" --stream "$TMP/day.jsonl"
run "before 10ms-20s" "$BEFORE_BIN" --seconds 20 --interval-ms 10
run "after  10ms-20s" "$AFTER_BIN" --seconds 20 --interval-ms 10
run "before 10ms-20s-proc" "$BEFORE_BIN" --seconds 20 --interval-ms 10 --process
run "after  10ms-20s-proc" "$AFTER_BIN" --seconds 20 --interval-ms 10 --process
run "before real-1ms" "$BEFORE_BIN" --seconds "$SECONDS_1MS" --interval-ms 1
run "after  real-1ms" "$AFTER_BIN" --seconds "$SECONDS_1MS" --interval-ms 1
run "after  real-1ms-stream" "$AFTER_BIN" --seconds "$SECONDS_1MS" --interval-ms 1 --stream "$TMP/1ms.jsonl"
echo "(per-sample growth = (rss_before_close_kib - rss_start_kib) / window_samples)"
