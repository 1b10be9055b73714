#!/usr/bin/env python3
"""Reference numbers of the text metrics (crates/tasks/src/metrics/{squad,seqeval,rouge,porter}.rs).

Reads text_cases.json (hand-written predictions and golds) and the word list of
porter_reference.tsv (its first column), and writes text_references.json and
porter_reference.tsv with what the reference implementations compute:

- extractive QA: the official SQuAD v1.1 evaluation (`evaluate-v1.1.py`), whose functions are
  reproduced below as the script has them (it is not on PyPI as a package);
- token classification: seqeval 1.2.2, default mode, micro average;
- summarization: rouge-score 0.1.2, RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True),
  score_multi over several references;
- stemmer: nltk's PorterStemmer() (NLTK_EXTENSIONS mode), as rouge-score builds it.

Usage (pip install -r requirements-text.txt first):
  python make_text_references.py            # rewrite the references
  python make_text_references.py --check    # recompute and fail if they differ from the committed ones
  python make_text_references.py --words /path/to/shared/datasets
                                            # take the word list from SAMSum and XSum anew
"""

import argparse
import csv
import json
import os
import re
import string
import sys
import warnings
from collections import Counter
from importlib.metadata import version

from nltk.stem import porter
from rouge_score import rouge_scorer
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2

HERE = os.path.dirname(os.path.abspath(__file__))

# The pins of requirements-text.txt: the references were made with these.
EXPECTED_VERSIONS = {"nltk": "3.9.1", "rouge-score": "0.1.2", "seqeval": "1.2.2"}

# ---- SQuAD v1.1 evaluate-v1.1.py (functions as in the official script) --------------------


def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score_squad(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


def squad_references(cases):
    per_case = []
    em_sum = f1_sum = 0.0
    for c in cases:
        if c["prediction"] is None:  # an unparsed answer: wrong (the script would count it 0)
            em, f1 = 0.0, 0.0
        else:
            em = float(metric_max_over_ground_truths(exact_match_score, c["prediction"], c["answers"]))
            f1 = float(metric_max_over_ground_truths(f1_score_squad, c["prediction"], c["answers"]))
        per_case.append(
            {
                "id": c["id"],
                "normalized_prediction": None if c["prediction"] is None else normalize_answer(c["prediction"]),
                "exact_match": em,
                "f1": f1,
            }
        )
        em_sum += em
        f1_sum += f1
    # The script reports 100 * mean; we keep fractions.
    return {"cases": per_case, "exact_match": em_sum / len(cases), "f1": f1_sum / len(cases)}


# ---- seqeval -------------------------------------------------------------------------------


def iob1_to_iob2(tags):
    """I-X that does not continue an entity of type X becomes B-X (ours, checked by seqeval)."""
    out = []
    prev = None
    for tag in tags:
        if tag.startswith("I-"):
            ty = tag[2:]
            prev_ty = prev[2:] if prev is not None and prev[:2] in ("I-", "B-") else None
            out.append("B-" + ty if prev_ty != ty else tag)
        else:
            out.append(tag)
        prev = tag
    return out


def entities_to_tags(tokens, entities):
    """The rule of seqeval.rs's entities_to_tags (ours): overlap takes the token."""
    spans = []
    pos = 0
    for t in tokens:
        spans.append((pos, pos + len(t)))
        pos += len(t) + 1
    tags = [None] * len(tokens)
    for e in sorted(entities, key=lambda e: (e["start"], e["end"])):
        first = True
        for i, (s, end) in enumerate(spans):
            if e["start"] < end and s < e["end"] and tags[i] is None:
                tags[i] = ("B-" if first else "I-") + e["label"]
                first = False
    return [t or "O" for t in tags]


def prf(gold, pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division="warn" warns and gives 0
        return {
            "precision": float(precision_score(gold, pred)),
            "recall": float(recall_score(gold, pred)),
            "f1": float(f1_score(gold, pred)),
        }


def seqeval_references(cases):
    sets = []
    for s in cases["sets"]:
        r = {"name": s["name"], **prf(s["gold"], s["pred"])}
        r["gold_entities"] = [list(e) for e in get_entities(s["gold"])]
        r["pred_entities"] = [list(e) for e in get_entities(s["pred"])]
        sets.append(r)
    iob1 = []
    for s in cases["iob1"]:
        converted = iob1_to_iob2(s["tags"])
        raw_entities = get_entities([s["tags"]])
        assert raw_entities == get_entities([converted]), s["name"]
        # seqeval's strict IOB2 mode accepts the conversion and finds the same entities.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            strict = f1_score([converted], [converted], mode="strict", scheme=IOB2)
        assert strict == (1.0 if raw_entities else 0.0), s["name"]
        iob1.append({"name": s["name"], "iob2": converted, "entities": [list(e) for e in raw_entities]})
    # All entity cases scored together, as score_task does (unparsed = no entities).
    gold, pred, ent = [], [], []
    for s in cases["entities"]:
        tags = entities_to_tags(s["tokens"], s["entities"] or [])
        ent.append({"name": s["name"], "tags": tags, **prf([s["gold"]], [tags])})
        gold.append(s["gold"])
        pred.append(tags)
    return {"sets": sets, "iob1": iob1, "entities": ent, "entities_all": prf(gold, pred)}


# ---- rouge-score ---------------------------------------------------------------------------

ROUGE_TYPES = ["rouge1", "rouge2", "rougeL"]


def rouge_references(cases):
    scorer = rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer=True)
    tok = scorer._tokenizer
    per_case = []
    sums = dict.fromkeys(ROUGE_TYPES, 0.0)
    for c in cases:
        if c["prediction"] is None:
            f = dict.fromkeys(ROUGE_TYPES, 0.0)
            tokens = None
        else:
            multi = scorer.score_multi(c["references"], c["prediction"])
            f = {k: float(multi[k].fmeasure) for k in ROUGE_TYPES}
            tokens = tok.tokenize(c["prediction"])
        per_case.append({"id": c["id"], "prediction_tokens": tokens, **f})
        for k in ROUGE_TYPES:
            sums[k] += f[k]
    return {"cases": per_case, **{k: sums[k] / len(cases) for k in ROUGE_TYPES}}


# ---- Porter stemmer ------------------------------------------------------------------------


def build_words(datasets):
    """Every distinct [a-z0-9]+ token (what rouge-score's tokenizer hands the stemmer) of the
    SAMSum test set and the XSum sample."""
    words = set()

    def add(text):
        words.update(w for w in re.split(r"[^a-z0-9]+", text.lower()) if w)

    with open(os.path.join(datasets, "samsum", "test.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            add(r["summary"])
            add(r["dialogue"])
    with open(os.path.join(datasets, "xsum-test-sample", "test.jsonl"), encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            add(j["document"])
            add(j["summary"])
    # A few the datasets may lack: the stemmer's special cases and mixed case.
    words.update(["sky", "skies", "dying", "news", "innings", "proceed", "yyyy", "Sky", "SKIES", "Running"])
    return sorted(words)


def porter_reference(words):
    stemmer = porter.PorterStemmer()
    return "".join(f"{w}\t{stemmer.stem(w)}\n" for w in words)


# ---- main ----------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="fail if the committed files differ")
    ap.add_argument("--words", metavar="DATASETS", help="take the stemmer word list from this folder")
    args = ap.parse_args()

    for k, v in EXPECTED_VERSIONS.items():
        if version(k) != v:
            sys.exit(f"{k} {version(k)} is installed; the references were made with {v}")

    warnings.simplefilter("ignore", UserWarning)  # seqeval: "X seems not to be NE tag"
    if args.words:
        words = build_words(args.words)
    else:
        # The committed word list: the first column of porter_reference.tsv.
        with open(os.path.join(HERE, "porter_reference.tsv"), encoding="utf-8") as f:
            words = [line.split("\t")[0] for line in f.read().split("\n") if line]

    with open(os.path.join(HERE, "text_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    refs = {
        "_about": "Made by make_text_references.py from text_cases.json; do not edit by hand.",
        "packages": EXPECTED_VERSIONS,
        "squad_v1": squad_references(cases["squad"]),
        "seqeval": seqeval_references(cases["seqeval"]),
        "rouge": rouge_references(cases["rouge"]),
    }
    outputs = {
        "text_references.json": json.dumps(refs, indent=1, ensure_ascii=False) + "\n",
        "porter_reference.tsv": porter_reference(words),
    }
    failed = False
    for name, text in outputs.items():
        path = os.path.join(HERE, name)
        if args.check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    print(f"{name}: differs from what the reference packages compute", file=sys.stderr)
                    failed = True
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if failed:
        sys.exit(1)
    print("text references: " + ("match" if args.check else "written"))


if __name__ == "__main__":
    main()
