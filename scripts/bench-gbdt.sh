#!/usr/bin/env bash
# Fit and predict time of our gradient boosting against xgboost (PyPI, same threads) on the
# same features: the four cases of crates/backend-traditional/tests/gbdt_xgboost.rs.
#   pip install xgboost==3.2.0 scikit-learn==1.9.1
#   bash scripts/bench-gbdt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
POWERHUNGRY_WRITE_GBDT_SPLITS="$dir" cargo nextest run -p powerhungry-backend-traditional \
  --test gbdt_xgboost -E 'test(bow_xgb)' >/dev/null
# The tfidf case's split file too (the slow test; only its split is needed).
POWERHUNGRY_WRITE_GBDT_SPLITS="$dir" cargo nextest run -p powerhungry-backend-traditional \
  --test gbdt_xgboost -E 'test(tfidf)' >/dev/null || true
echo "== ours (release)"
cargo run -q --release -p powerhungry-backend-traditional --example gbdt_timing -- "$dir"
echo "== xgboost $(python3 -c 'import xgboost; print(xgboost.__version__)')"
python3 - "$dir" <<'PY'
import sys, time
sys.path.insert(0, "crates/backend-traditional/testdata/gbdt")
from make_xgboost_reference import CASES, features_of
import xgboost
from sklearn.preprocessing import LabelEncoder
print("case\tthreads\tfit_s\tpredict_s")
for name, features in CASES:
    d, v, xtr, xte = features_of(sys.argv[1], name, features)
    y = LabelEncoder().fit_transform([r["label"] for r in d["train"]])
    for n in (1, 2):
        t = time.perf_counter(); m = xgboost.XGBClassifier(nthread=n).fit(xtr, y); fit = time.perf_counter() - t
        t = time.perf_counter(); m.predict(xte); pred = time.perf_counter() - t
        print(f"{name}/{features}\t{n}\t{fit:.3f}\t{pred:.4f}")
PY
