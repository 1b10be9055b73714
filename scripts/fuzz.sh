#!/usr/bin/env bash
# Fuzz every parser with cargo fuzz (libFuzzer), starting from the committed corpus in
# fuzz/corpus/<target>/. Usage:
#   scripts/fuzz.sh              # 1,000,000 executions per target (the long run; minutes each)
#   scripts/fuzz.sh --seconds 5  # a short run of each (what .ci/run does)
# Needs cargo-fuzz (`cargo install cargo-fuzz --version 0.13.1 --locked`). Our toolchain is
# stable: RUSTC_BOOTSTRAP=1 lets it take the sanitizer flags cargo fuzz passes.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails this script.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
runs=1000000
seconds=""
if [ "${1:-}" = "--seconds" ]; then seconds="${2:?--seconds N}"; fi
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
cargo fuzz build -O
bin_dir="target/$(rustc -vV | sed -n 's/^host: //p')/release"
for t in $targets; do
  mkdir -p "corpus/$t"
  # A scratch corpus, so the committed one only changes when someone means to.
  scratch=$(mktemp -d)
  cp -r "corpus/$t/." "$scratch/"
  if [ -n "$seconds" ]; then
    limit=(-max_total_time="$seconds")
  else
    limit=(-runs="$runs")
  fi
  echo "== $t" >&2
  log=$(mktemp)
  set +e
  # The binary built above, run directly (cargo fuzz run would rebuild on any source change).
  mkdir -p "artifacts/$t"
  "$bin_dir/$t" "$scratch" "${limit[@]}" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  status=$?
  set -e
  grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|panicked|SUMMARY" "$log" || true
  [ "$status" -eq 0 ] || tail -n 40 "$log"
  rm -f "$log"
  rm -rf "$scratch"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $t failed (exit $status); the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
