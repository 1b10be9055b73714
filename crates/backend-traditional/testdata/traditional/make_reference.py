#!/usr/bin/env python3
"""Reference numbers from scikit-learn for the traditional-model tests (run once, output committed).

    pip install scikit-learn==1.9.1
    python3 make_reference.py                      # tfidf_3docs.json, logreg_toy.json
    POWERHUNGRY_WRITE_SPLIT=/tmp/rt_split.txt \
      cargo test -p powerhungry-backend-traditional --test traditional_rt_polarity -- --nocapture
    python3 make_reference.py /tmp/rt_split.txt    # + rt_polarity_sklearn.json

The split file has one line per example, "train<TAB>id" or "test<TAB>id", ids as the Rust
loader makes them ("rt-polarity.neg:12" = line 12 of that file), so sklearn sees exactly the
same train and test sentences.
"""
import json
import os
import sys

import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
TIGHT = dict(C=1.0, solver="lbfgs", tol=1e-10, max_iter=100000)


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def tfidf_3docs():
    docs = ["the cat sat", "the dog sat down", "a cat, a dog!"]
    v = TfidfVectorizer(analyzer="char", ngram_range=(2, 3))
    x = v.fit_transform(docs).toarray()
    terms = v.get_feature_names_out()
    dump("tfidf_3docs.json", {
        "sklearn": sklearn.__version__,
        "docs": docs,
        "idf": {t: float(v.idf_[j]) for j, t in enumerate(terms)},
        "values": {t: [float(x[i, j]) for i in range(len(docs))] for j, t in enumerate(terms)},
    })


TOY_BINARY = (
    ["good film", "great acting and a good plot", "bad film", "boring plot , bad acting",
     "good fun", "dull and boring", "great fun film", "bad bad bad", "not good", "not bad"],
    ["pos", "pos", "neg", "neg", "pos", "neg", "pos", "neg", "neg", "pos"],
)
TOY_MULTI = (
    ["goal match team", "team wins match", "stocks fall", "market stocks rise", "new phone chip",
     "chip maker phone", "match stocks", "team chip", "market rise goal", "phone market"],
    ["sport", "sport", "business", "business", "tech", "tech", "sport", "tech", "business", "tech"],
)


def logreg_case(texts, labels, vectorizer):
    x = vectorizer.fit_transform(texts)
    lr = LogisticRegression(**TIGHT).fit(x, labels)
    terms = vectorizer.get_feature_names_out()
    return {
        "texts": texts,
        "labels": labels,
        "classes": [str(c) for c in lr.classes_],
        "coef": {t: [float(lr.coef_[k, j]) for k in range(lr.coef_.shape[0])] for j, t in enumerate(terms)},
        "intercept": [float(b) for b in lr.intercept_],
        "proba": [[float(p) for p in row] for row in lr.predict_proba(x)],
    }


def logreg_toy():
    dump("logreg_toy.json", {
        "sklearn": sklearn.__version__,
        "settings": "LogisticRegression(C=1.0, solver='lbfgs', tol=1e-10, max_iter=100000)",
        "bow_binary": logreg_case(*TOY_BINARY, CountVectorizer()),
        "bow_multiclass": logreg_case(*TOY_MULTI, CountVectorizer()),
        "tfidf_char_binary": logreg_case(*TOY_BINARY, TfidfVectorizer(analyzer="char", ngram_range=(2, 3))),
    })


def fnv1a(ids):
    """FNV-1a 64 over the ids joined by newlines: a fingerprint of the split, checked in Rust."""
    h = 0xCBF29CE484222325
    for b in "\n".join(ids).encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def rt_polarity(split_file):
    data = os.path.join(HERE, "..", "..", "..", "..", "data", "rt-polarity")
    lines = {}
    for name in ["rt-polarity.neg", "rt-polarity.pos"]:
        # Windows-1252, as the Rust loader decodes "latin-1" (see docs/datasets.md).
        with open(os.path.join(data, name), "rb") as f:
            for i, line in enumerate(f.read().split(b"\n")):
                lines[f"{name}:{i + 1}"] = (line.decode("cp1252"), name.rsplit(".", 1)[1])
    train, test = [], []
    with open(split_file) as f:
        for row in f:
            part, ident = row.rstrip("\n").split("\t")
            (train if part == "train" else test).append(ident)
    out = {"sklearn": sklearn.__version__, "settings": TIGHT | {"note": "tight tolerance: the optimum"},
           "train_fingerprint": fnv1a(train), "test_fingerprint": fnv1a(test),
           "n_train": len(train), "n_test": len(test)}
    for key, vec in [("bow", CountVectorizer()), ("tfidf_char", TfidfVectorizer(analyzer="char", ngram_range=(2, 3)))]:
        xtr = vec.fit_transform([lines[i][0] for i in train])
        ytr = [lines[i][1] for i in train]
        lr = LogisticRegression(**TIGHT).fit(xtr, ytr)
        pred = lr.predict(vec.transform([lines[i][0] for i in test]))
        gold = [lines[i][1] for i in test]
        acc = sum(p == g for p, g in zip(pred, gold)) / len(gold)
        # sklearn's defaults (max_iter=100) too, as the studies would have run it.
        lr_def = LogisticRegression().fit(xtr, ytr)
        pred_def = lr_def.predict(vec.transform([lines[i][0] for i in test]))
        acc_def = sum(p == g for p, g in zip(pred_def, gold)) / len(gold)
        out[key] = {"vocabulary": len(vec.vocabulary_), "accuracy": acc, "accuracy_default_max_iter": acc_def,
                    "predictions": "".join("1" if p == "pos" else "0" for p in pred)}
        print(key, "vocabulary", len(vec.vocabulary_), "accuracy", acc, "default", acc_def)
    dump("rt_polarity_sklearn.json", out)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        rt_polarity(sys.argv[1])
    else:
        tfidf_3docs()
        logreg_toy()
