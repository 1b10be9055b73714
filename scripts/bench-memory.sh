#!/usr/bin/env bash
# Memory of bench's closing summary and of `powerhungry report` against the run's length
# (issue 14, item 12). A benchmark, not a test: prints peak RSS at 1e4, 1e5 and 1e6
# inferences (a do-nothing backend through the real runner into a real SQLite store).
#   summary: what bench reads at the end now (no per-inference records)
#   whole:   what it read before (load_run, every inference record) = the old report's read
#   report:  `powerhungry report STORE --quiet`, max RSS from /usr/bin/time -v
# Usage: scripts/bench-memory.sh [PROFILE]   (PROFILE: dev by default; the figures in
# docs/bench.md were taken with the dev profile on the shared 2-core VM)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-dev}
cargo build -q --profile "$profile" -p powerhungry-store --example memory
cargo build -q --profile "$profile" -p powerhungry
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
ex=${CARGO_TARGET_DIR:-target}/$dir/examples/memory
bin=${CARGO_TARGET_DIR:-target}/$dir/powerhungry
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-10s %-12s %-12s %-12s %-12s\n' inferences write_KiB summary_KiB whole_KiB report_KiB
for n in 10000 100000 1000000; do
    store=$tmp/m$n.sqlite
    w=$("$ex" write "$n" "$store" | sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p')
    s=$("$ex" summary "$store" | sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p')
    h=$("$ex" whole "$store" | sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p')
    r=$( { /usr/bin/time -v "$bin" report "$store" --quiet >/dev/null; } 2>&1 |
        sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p')
    printf '%-10s %-12s %-12s %-12s %-12s\n' "$n" "$w" "$s" "$h" "$r"
done
