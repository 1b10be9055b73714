#!/usr/bin/env bash
# Install what the tests need besides Rust (the README's test command runs after it; .ci/run
# calls it on every CI run, since a fresh machine has none of it):
#   Debian: Chromium (the report's browser test), Prometheus' promtool (the agent's /metrics),
#   PostgreSQL (the shared results store's tests), iproute2 (`ip netns`: the two-node agent test),
#   PyPI (pinned): the metric reference packages (and their numbers, recomputed and compared),
#   the Python worker's torch/transformers set, llama.cpp's OpenAI-compatible server.
# apt-get needs root; pip installs into the python3 on PATH. Safe to run again: satisfied
# requirements are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== system packages (Chromium for the report's browser test, promtool for the agent's /metrics,"
echo "   PostgreSQL for the shared results store: scripts/test-postgres.sh starts it on loopback)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver prometheus postgresql iproute2 >/dev/null

echo "== the metrics' reference numbers, recomputed by the packages that define them"
python3 -m pip install --quiet --disable-pip-version-check -r crates/tasks/testdata/metrics/requirements-text.txt
python3 crates/tasks/testdata/metrics/make_text_references.py --check
# pycocotools (COCO mAP) and pycocoevalcap (BLEU-4, CIDEr-D; its PTB tokenizer runs on Java).
python3 -m pip install --quiet --disable-pip-version-check -r crates/tasks/testdata/metrics/requirements-vision.txt
python3 crates/tasks/testdata/metrics/make_vision_references.py --check

echo "== the Python worker's packages (torch, transformers, ...: the backend-python tests run them)"
python3 -m pip install --quiet --disable-pip-version-check -r python/requirements-worker.txt
# The reproduction suites (suites/php/) are generated from the study's logs: they must be current.
python3 scripts/php-suites.py --check

echo "== llama.cpp's OpenAI-compatible server (the served-model suite's test runs against it)"
# Built from the sdist by pip when no wheel is at hand (about 10 minutes on 2 cores).
CMAKE_BUILD_PARALLEL_LEVEL=2 python3 -m pip install --quiet --disable-pip-version-check \
  'llama-cpp-python[server]==0.3.36'
