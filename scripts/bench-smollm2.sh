#!/usr/bin/env bash
# SmolLM2-135M-Instruct zero-shot speed on candle with each `weights` format (as-stored Q4_1,
# q8_0, f32), and llama.cpp (the llama_cpp Python package) on the same file, token ids, greedy
# limit and stop ids, all in one run: seconds per inference, prefill and decode tokens/s, and
# ratios against candle as-stored and against llama.cpp.
#   bash scripts/bench-smollm2.sh [N=10] [THREADS=1] [FORMATS=as-stored,q8_0,f32]
# GGUF: $POWERHUNGRY_SMOLLM2_GGUF, else scripts/fetch-smollm2.sh fetches it. The example is
# built in the dev profile (the workspace builds candle and gemm at opt-level 3 there too).
# THREADS sets RAYON_NUM_THREADS for candle and n_threads for llama.cpp; on a machine shared
# with a compiler, 1 thread gives steadier figures (spinning threads suffer most from it).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10}"
threads="${2:-1}"
formats="${3:-as-stored,q8_0,f32}"
gguf="${POWERHUNGRY_SMOLLM2_GGUF:-$(bash scripts/fetch-smollm2.sh)}"
cargo build -q -j 2 -p powerhungry-backend-candle --example smollm2_speed
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "# $n inputs per prompt style, $threads thread(s), $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for style in study dspy-chat; do
  echo "== $style"
  {
    RAYON_NUM_THREADS="$threads" target/debug/examples/smollm2_speed "$gguf" "$n" "$style" . \
      "$formats" "$dir/ids-$style.json"
    if python3 -c "import llama_cpp" 2>/dev/null; then
      python3 scripts/smollm2_llama_cpp_speed.py "$gguf" "$dir/ids-$style.json" "$threads"
    else
      echo "(llama_cpp is not importable: no llama.cpp baseline)" >&2
    fi
  } >"$dir/table-$style.tsv"
  # Ratios: the as-stored row and the llama.cpp row as baselines (s per inference).
  awk -F'\t' 'NR == 1 { print $0 "\tx_vs_as_stored\tx_vs_llama_cpp"; next }
    { rows[NR] = $0; s[NR] = $3; if ($1 == "as-stored") base = $3; if ($1 == "llama.cpp") lc = $3 }
    END { for (i = 2; i <= NR; i++)
      printf "%s\t%s\t%s\n", rows[i], base ? sprintf("%.2f", base / s[i]) : "-",
        lc ? sprintf("%.2f", lc / s[i]) : "-" }' "$dir/table-$style.tsv" | column -t -s $'\t'
done
echo "# x_vs_*: how many times faster than the baseline (its s per inference / this row's);"
echo "# greedy_equal: greedy tokens (up to 16) equal to the first row's, per prompt"
