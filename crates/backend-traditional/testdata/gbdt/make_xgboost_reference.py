#!/usr/bin/env python3
"""xgboost's predictions for tests/gbdt_xgboost.rs (run once, output committed).

    pip install xgboost==3.2.0 scikit-learn==1.9.1 numpy scipy
    mkdir -p /tmp/gbdt && POWERHUNGRY_WRITE_GBDT_SPLITS=/tmp/gbdt \\
      cargo nextest run -p powerhungry-backend-traditional --test gbdt_xgboost --no-fail-fast
    python3 make_xgboost_reference.py /tmp/gbdt      # writes xgboost_reference.json

The Rust test writes each case's train and test texts, labels and ids (<dataset>.json), so
scikit-learn vectorizes exactly the sentences the Rust side does: CountVectorizer() for "bow",
TfidfVectorizer(analyzer="char", ngram_range=(2, 3)) for "tfidf_char" (the Rust vectorizers
reproduce both, tests/traditional_known_answers.rs). The classifier is XGBClassifier() with
its defaults, given the scipy CSR matrix (absent entries are missing values).
"""
import json
import os
import sys
import time

import numpy as np
import sklearn
import xgboost
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import LabelEncoder

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [("rt-polarity", "bow"), ("ag_news", "bow"), ("emotion", "bow"), ("rt-polarity", "tfidf_char")]


def fnv1a(ids):
    h = 0xCBF29CE484222325
    for b in "\n".join(ids).encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) % (1 << 64)
    return f"{h:016x}"


def vectorizer(features):
    if features == "bow":
        return CountVectorizer()
    return TfidfVectorizer(analyzer="char", ngram_range=(2, 3))


def load(folder, name):
    with open(os.path.join(folder, f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def features_of(folder, name, features):
    d = load(folder, name)
    v = vectorizer(features)
    xtr = v.fit_transform([r["text"] for r in d["train"]])
    xte = v.transform([r["text"] for r in d["test"]])
    return d, v, xtr, xte


def main(folder):
    out = {"xgboost": xgboost.__version__, "sklearn": sklearn.__version__,
           "settings": "XGBClassifier() defaults; features from the Rust test's split"}
    for name, features in CASES:
        d, v, xtr, xte = features_of(folder, name, features)
        enc = LabelEncoder().fit([r["label"] for r in d["train"]])
        ytr = enc.transform([r["label"] for r in d["train"]])
        t = time.perf_counter()
        m = xgboost.XGBClassifier().fit(xtr, ytr)
        fit_s = time.perf_counter() - t
        pred = enc.inverse_transform(m.predict(xte))
        gold = np.array([r["label"] for r in d["test"]])
        acc = float((pred == gold).mean())
        print(f"{name}/{features}: accuracy {acc:.4f}, vocabulary {len(v.vocabulary_)}, fit {fit_s:.1f} s")
        out[f"{name}/{features}"] = {
            "train_fingerprint": fnv1a([r["id"] for r in d["train"]]),
            "test_fingerprint": fnv1a([r["id"] for r in d["test"]]),
            "vocabulary": len(v.vocabulary_),
            "accuracy": acc,
            "predictions": [str(p) for p in pred],
        }
    with open(os.path.join(HERE, "xgboost_reference.json"), "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
