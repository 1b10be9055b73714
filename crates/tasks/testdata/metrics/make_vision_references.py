#!/usr/bin/env python3
"""Reference numbers for the vision and caption metrics of crates/tasks (src/metrics/coco_map.rs,
bleu.rs, cider.rs, ptb.rs), computed by the packages that define them:

    pip install pycocotools==2.0.8 pycocoevalcap==1.2 numpy==2.4.6   # and Java (PTBTokenizer)

Writes, next to this script:
  coco_vision_references.json  object detection: cases (gold boxes and detections per image) with
                               pycocotools' COCOeval bbox stats[0] (mAP@[.5:.95]) and stats[1] (mAP@.5)
  caption_references.json      image captioning: cases (references and a caption per image) with
                               pycocoevalcap's Bleu(4)[3] and Cider() after its PTBTokenizer, and a
                               tokenisation table (text -> PTBTokenizer output)

Every float is written twice: as a decimal and as its IEEE-754 bits ("*_bits"), so the Rust tests
compare bit for bit. Inputs are generated here from real COCO 2017 val boxes and captions
(../shared/datasets/coco2017-val-mini, or $POWERHUNGRY_SHARED/datasets/coco2017-val-mini), perturbed
with a seeded random generator, so a rerun gives the same files.

    python3 make_vision_references.py           # rewrite the two files
    python3 make_vision_references.py --check   # recompute and fail if the committed files differ
"""

import contextlib
import io
import json
import math
import os
import random
import struct
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def shared_dir():
    if os.environ.get("POWERHUNGRY_SHARED"):
        return os.environ["POWERHUNGRY_SHARED"]
    return os.path.normpath(os.path.join(HERE, "../../../../../shared"))


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def num(x):
    """A float as the Rust tests read it: value and bits; None stays None."""
    if x is None:
        return None
    return {"value": float(x), "bits": bits(x)}


# ---------------------------------------------------------------- object detection


def load_coco():
    root = os.path.join(shared_dir(), "datasets", "coco2017-val-mini")
    inst = json.load(open(os.path.join(root, "annotations", "instances_val2017.json")))
    files = set(os.listdir(os.path.join(root, "val2017")))
    images = sorted((i for i in inst["images"] if i["file_name"] in files), key=lambda i: i["id"])
    names = {c["id"]: c["name"] for c in inst["categories"]}
    by_image = {i["id"]: [] for i in images}
    for a in inst["annotations"]:
        if a["image_id"] in by_image:
            by_image[a["image_id"]].append(
                {
                    "category": names[a["category_id"]],
                    "bbox": a["bbox"],
                    "area": a["area"],
                    "iscrowd": bool(a["iscrowd"]),
                }
            )
    out = [
        {"id": str(i["id"]), "width": i["width"], "height": i["height"], "gold": by_image[i["id"]]}
        for i in images
    ]
    return out, sorted(names.values())


def pycoco_map(images):
    """COCOeval bbox on one case. Image ids are 1.. in the case's order (ties across images are
    broken by image id in pycocotools, by example order in Rust); category ids are 1.. in name
    order (the order Rust averages in)."""
    cats = sorted(
        {b["category"] for im in images for b in im["gold"]}
        | {d["label"] for im in images for d in im["detections"]}
    )
    cat_id = {c: k + 1 for k, c in enumerate(cats)}
    gt = {
        "images": [{"id": n + 1, "width": 640, "height": 480} for n in range(len(images))],
        "categories": [{"id": cat_id[c], "name": c} for c in cats],
        "annotations": [],
    }
    res = []
    for n, im in enumerate(images):
        for b in im["gold"]:
            gt["annotations"].append(
                {
                    "id": len(gt["annotations"]) + 1,
                    "image_id": n + 1,
                    "category_id": cat_id[b["category"]],
                    "bbox": b["bbox"],
                    "area": b["area"],
                    "iscrowd": int(b["iscrowd"]),
                }
            )
        for d in im["detections"]:
            res.append(
                {"image_id": n + 1, "category_id": cat_id[d["label"]], "bbox": d["bbox"], "score": d["score"]}
            )
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        if res:
            coco_dt = coco_gt.loadRes(res)
        else:  # loadRes refuses an empty list; an empty result set is what it would build
            coco_dt = COCO()
            coco_dt.dataset = {"images": gt["images"], "categories": gt["categories"], "annotations": []}
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    m, m50 = ev.stats[0], ev.stats[1]
    if m == -1:  # no category with a gold box that is not ignored: pycocotools' -1
        return None, None
    return m, m50


def r2(x):
    return round(x, 2)


def jitter(rng, b, s=0.1):
    x, y, w, h = b
    return [
        r2(x + rng.gauss(0, s * w)),
        r2(y + rng.gauss(0, s * h)),
        r2(w * math.exp(rng.gauss(0, 1.5 * s))),
        r2(h * math.exp(rng.gauss(0, 1.5 * s))),
    ]


def random_box(rng, im):
    w = r2(rng.uniform(5, im["width"] / 2))
    h = r2(rng.uniform(5, im["height"] / 2))
    return [r2(rng.uniform(0, im["width"] - w)), r2(rng.uniform(0, im["height"] - h)), w, h]


def perturbed(rng, images, all_names, skip=(), p_keep=0.85, fp=(0, 3), score=lambda rng: r2(rng.random())):
    out = []
    gold_names = sorted({b["category"] for im in images for b in im["gold"]})
    for n, im in enumerate(images):
        dets = []
        if n not in skip:
            for b in im["gold"]:
                if rng.random() < p_keep:
                    label = b["category"] if rng.random() > 0.05 else rng.choice(all_names)
                    dets.append({"label": label, "score": score(rng), "bbox": jitter(rng, b["bbox"])})
            for _ in range(rng.randint(*fp)):
                dets.append({"label": rng.choice(gold_names), "score": score(rng), "bbox": random_box(rng, im)})
            rng.shuffle(dets)
        out.append({"id": im["id"], "gold": im["gold"], "detections": dets})
    return out


def detection_cases():
    rng = random.Random(8)
    coco, all_names = load_coco()
    present = {b["category"] for im in coco for b in im["gold"]}
    only_predicted = [c for c in all_names if c not in present][0]
    cases = []

    def add(name, note, images):
        m, m50 = pycoco_map(images)
        cases.append({"name": name, "note": note, "images": images, "map": num(m), "map_50": num(m50)})

    base = perturbed(rng, coco, all_names, skip=(3, 17))
    for n in (5, 11):  # a category only predicted: false positives in a category without gold
        base[n]["detections"].append({"label": only_predicted, "score": 0.97, "bbox": random_box(rng, coco[n])})
    base.append({"id": "no-gold", "gold": [], "detections": [
        {"label": "person", "score": 0.99, "bbox": [10.0, 10.0, 50.0, 80.0]},
        {"label": "dog", "score": 0.42, "bbox": [100.0, 120.0, 60.0, 40.0]}]})
    add("coco_perturbed",
        "all 30 images, jittered boxes, 5% wrong labels, random false positives, images 3 and 17 "
        f"without predictions, '{only_predicted}' only predicted, an extra image without gold boxes",
        base)

    add("coco_ties", "all scores 0.5: ties within and across images",
        perturbed(random.Random(9), coco, all_names, skip=(2,), score=lambda rng: 0.5))
    add("coco_coarse_scores", "scores in {0.1..0.9}: many ties",
        perturbed(random.Random(10), coco, all_names, score=lambda rng: rng.choice([0.1, 0.3, 0.5, 0.7, 0.9])))

    perfect = [{"id": im["id"], "gold": im["gold"], "detections": [
        {"label": b["category"], "score": 1.0, "bbox": b["bbox"]} for b in im["gold"] if not b["iscrowd"]]}
        for im in coco]
    add("coco_perfect", "every non-crowd gold box detected exactly", perfect)
    add("coco_no_predictions", "no image has a prediction",
        [{"id": im["id"], "gold": im["gold"], "detections": []} for im in coco])

    # more than 100 detections in an image: the 100 best per image and category are kept
    big = max(coco, key=lambda im: len(im["gold"]))
    r = random.Random(11)
    dets = [{"label": b["category"], "score": 0.05, "bbox": b["bbox"]} for b in big["gold"]]
    cat = max({b["category"] for b in big["gold"]}, key=lambda c: sum(b["category"] == c for b in big["gold"]))
    dets += [{"label": cat, "score": r2(r.uniform(0.1, 0.9)), "bbox": random_box(r, big)} for _ in range(120)]
    dets += [{"label": b["category"], "score": 0.95, "bbox": jitter(r, b["bbox"], 0.03)} for b in big["gold"][:3]]
    r.shuffle(dets)
    add("coco_over_100", f"image {big['id']}: 143+ detections, 120 of '{cat}' junk above its true boxes",
        [{"id": big["id"], "gold": big["gold"], "detections": dets}]
        + perturbed(random.Random(12), [im for im in coco if im is not big][:5], all_names))
    add("coco_over_100_spread", "150 detections in one image over several categories",
        [{"id": big["id"], "gold": big["gold"], "detections": [
            {"label": r.choice([b["category"] for b in big["gold"]]), "score": r2(r.random()),
             "bbox": jitter(r, r.choice(big["gold"])["bbox"], 0.2)} for _ in range(150)]}])

    # crowd boxes (the two of the set) with detections inside them
    crowd = []
    for im in coco:
        cb = [b for b in im["gold"] if b["iscrowd"]]
        if cb:
            r = random.Random(13 + len(crowd))
            dets = [{"label": b["category"], "score": r2(r.random()), "bbox": jitter(r, b["bbox"])}
                    for b in im["gold"] if not b["iscrowd"] and r.random() < 0.8]
            for b in cb:
                x, y, w, h = b["bbox"]
                dets.append({"label": b["category"], "score": 0.99, "bbox": [x, y, w, h]})
                for _ in range(6):
                    dw, dh = r2(w * r.uniform(0.05, 0.3)), r2(h * r.uniform(0.05, 0.3))
                    dets.append({"label": b["category"], "score": r2(r.random()),
                                 "bbox": [r2(x + r.uniform(0, w - dw)), r2(y + r.uniform(0, h - dh)), dw, dh]})
                dets.append({"label": b["category"], "score": 0.6, "bbox": [r2(x - w / 2), r2(y), w, h]})
            crowd.append({"id": im["id"], "gold": im["gold"], "detections": dets})
    add("coco_crowd", "the images with crowd boxes; detections inside, on and across the crowd regions", crowd)

    g = lambda c, b, a=None, crowd=False: {"category": c, "bbox": b, "area": a if a is not None else b[2] * b[3], "iscrowd": crowd}
    d = lambda c, s, b: {"label": c, "score": s, "bbox": b}
    add("edge_hand_made", "no gold in an image, no prediction in an image, duplicates, zero/negative "
        "widths, a gold box whose area is outside [0, 1e10] (ignored), a crowd-only category", [
        {"id": "a", "gold": [g("cat", [0, 0, 10, 10]), g("cat", [20, 20, 10, 10])],
         "detections": [d("cat", 0.9, [0, 0, 10, 10]), d("cat", 0.8, [0, 0, 10, 10]),
                        d("cat", 0.7, [20, 20, 0, 10]), d("cat", 0.6, [25, 20, -5, 10])]},
        {"id": "b", "gold": [], "detections": [d("cat", 0.95, [1, 1, 5, 5]), d("dog", 0.5, [0, 0, 3, 3])]},
        {"id": "c", "gold": [g("dog", [0, 0, 10, 10]), g("dog", [50, 50, 10, 10], a=2e10)], "detections": []},
        {"id": "d", "gold": [g("dog", [0, 0, 10, 10]), g("bird", [0, 0, 30, 30], crowd=True)],
         "detections": [d("dog", 0.3, [1, 1, 10, 10]), d("dog", 0.3, [50, 50, 10, 10]),
                        d("bird", 0.9, [0, 0, 5, 5]), d("bird", 0.8, [100, 100, 5, 5])]},
    ])
    add("edge_no_gold_at_all", "no image has a gold box (pycocotools: -1; Rust: no metric)", [
        {"id": "a", "gold": [], "detections": [d("cat", 0.9, [0, 0, 10, 10])]},
        {"id": "b", "gold": [], "detections": []}])
    add("edge_crowd_only", "the only gold box is a crowd box (ignored): no metric", [
        {"id": "a", "gold": [g("cat", [0, 0, 50, 50], crowd=True)], "detections": [d("cat", 0.9, [0, 0, 10, 10])]}])
    add("edge_empty_images", "images without gold and predictions around one that has both", [
        {"id": "a", "gold": [], "detections": []},
        {"id": "b", "gold": [g("cat", [0, 0, 10, 10])], "detections": [d("cat", 0.9, [1, 0, 10, 10])]},
        {"id": "c", "gold": [], "detections": []}])

    # small random cases on a grid (many exact IoU ties and threshold hits)
    r = random.Random(14)
    for k in range(40):
        ims = []
        names = ["a", "b", "c"][: r.randint(1, 3)]
        for i in range(r.randint(1, 4)):
            gold = [g(r.choice(names), [r.randint(0, 8) * 5, r.randint(0, 8) * 5, r.randint(1, 6) * 5,
                                        r.randint(1, 6) * 5], crowd=r.random() < 0.1) for _ in range(r.randint(0, 5))]
            dets = []
            for _ in range(r.randint(0, 8)):
                s = r.choice([0.2, 0.4, 0.6, 0.8, r2(r.random())])
                if gold and r.random() < 0.7:  # a gold box shifted by whole grid steps
                    b = r.choice(gold)
                    x, y, w, h = b["bbox"]
                    box = [x + r.choice([0, 0, 5, -5]), y + r.choice([0, 0, 5]), w + r.choice([0, 0, 5, -5]), h]
                    dets.append(d(b["category"] if r.random() < 0.9 else r.choice(names), s, box))
                else:
                    dets.append(d(r.choice(names), s, [r.randint(0, 8) * 5, r.randint(0, 8) * 5,
                                                       r.randint(1, 6) * 5, r.randint(1, 6) * 5]))
            ims.append({"id": f"{k}-{i}", "gold": gold, "detections": dets})
        add(f"grid_{k:02}", "random boxes on a 5-pixel grid", ims)
    return cases


# ---------------------------------------------------------------- captioning

TRICKY = [
    "A man, riding a horse!",
    "The dog's bone isn't here; they're gone.",
    'Two dogs\' toys: a ball & a "frisbee".',
    "black-and-white photo of a sign -- wow...",
    "A cat (orange) sits on [a] {mat}.",
    "I cannot go, gonna wanna gotta",
    "I'm, you'd, we'll, they've, can't, won't, don't",
    "1,000 people, 3.5 miles, 1/2 cup, 10:30",
    "Mr. Smith and Dr. Jones at St. Louis",
    "a.m. p.m. U.S.A. e.g. i.e.",
    "He said 'hello' and ``double''",
    "A MAN IN A RED SHIRT",
    "a  man   with   spaces\ttab",
    "wow!! what?! ok?? hi",
    "An airplane flying over a city.",
    "A giraffe standing next to a tree.",
    "People on the street near a bus stop .",
    "A kitchen with a stove, sink, and refrigerator.",
    "A woman's hand holding a phone",
    "The children's toys are on the floor",
    "a child on a skate-board",
    "",
    "...",
    "!",
    "?",
    ", . ; : - --",
    "It cost $5.50, 50% off, 2*3",
    "A man -- with a dash - and hyphen-ated.",
    "The dog’s bone “big” … end — more",
    "a.. b.... 5. A. Smith",
    "can’t stop",
]

# Beyond the Rust rules: in the tokenisation table only (KNOWN_DIFFERENT in src/metrics/ptb.rs).
LIMITS = [
    "rock'n'roll y'all at 10:00am",
    "www.google.com http://x.com/a?b=c",
]


def tokenize_all(texts):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        out = PTBTokenizer().tokenize({i: [{"caption": t}] for i, t in enumerate(texts)})
    return [out[i][0] for i in range(len(texts))]


def pycocoevalcap_scores(images):
    """What COCOEvalCap.evaluate does: PTBTokenizer on gts and res, then Bleu(4) and Cider()."""
    gts = {i: [{"caption": r} for r in im["references"]] for i, im in enumerate(images)}
    res = {i: [{"caption": im["caption"]}] for i, im in enumerate(images)}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        tok = PTBTokenizer()
        gts, res = tok.tokenize(gts), tok.tokenize(res)
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        cider, _ = Cider().compute_score(gts, res)
    return bleu[3], cider


def caption_cases():
    root = os.path.join(shared_dir(), "datasets", "coco2017-val-mini")
    cap = json.load(open(os.path.join(root, "annotations", "captions_val2017.json")))
    files = set(os.listdir(os.path.join(root, "val2017")))
    ids = sorted(i["id"] for i in cap["images"] if i["file_name"] in files)
    refs = {i: [] for i in ids}
    for a in sorted(cap["annotations"], key=lambda a: a["id"]):
        if a["image_id"] in refs:
            refs[a["image_id"]].append(a["caption"])
    all_captions = [a["caption"] for a in cap["annotations"]]
    rng = random.Random(8)

    def perturb(c):
        w = c.split()
        for _ in range(rng.randint(0, 3)):
            op = rng.random()
            if op < 0.4 and len(w) > 1:
                del w[rng.randrange(len(w))]
            elif op < 0.7:
                w.insert(rng.randrange(len(w) + 1), rng.choice(["a", "the", "big", "red", "on", "near", "two"]))
            elif len(w) > 1:
                i = rng.randrange(len(w) - 1)
                w[i], w[i + 1] = w[i + 1], w[i]
        return " ".join(w)

    hyps = []
    for n, i in enumerate(ids):
        k = rng.random()
        if k < 0.6:
            hyps.append(perturb(rng.choice(refs[i])))
        elif k < 0.8:
            hyps.append(rng.choice(refs[ids[(n + 7) % len(ids)]]))
        else:
            hyps.append(rng.choice(["A man standing next to a table.", "a picture of a room", "Two dogs."]))
    coco5 = [{"id": str(i), "references": refs[i], "caption": h} for i, h in zip(ids, hyps)]
    cases = []

    def add(name, note, images):
        b, c = pycocoevalcap_scores(images)
        cases.append({"name": name, "note": note, "images": images, "bleu4": num(b), "cider_d": num(c)})

    add("coco_5refs", "30 images, 5 references each, perturbed/borrowed/generic captions", coco5)
    add("coco_1ref", "the same captions against the first reference only",
        [dict(im, references=im["references"][:1]) for im in coco5])
    add("coco_mixed_refs", "1 reference for even images, 5 for odd",
        [dict(im, references=im["references"][:1] if n % 2 == 0 else im["references"]) for n, im in enumerate(coco5)])
    edge = [dict(im) for im in coco5[:10]]
    edge[1]["caption"] = ""
    edge[4]["caption"] = "..."
    edge[6]["caption"] = "!"
    edge[9]["caption"] = ""
    add("coco_empty_and_punctuation", "empty captions (one last) and captions of punctuation only", edge)
    add("coco_exact_reference", "each caption is the image's first reference",
        [dict(im, caption=im["references"][0]) for im in coco5])
    add("coco_all_empty", "every caption empty", [dict(im, caption="") for im in coco5[:6]])
    add("coco_one_image", "one image (CIDEr's idf is log(1) = 0)", coco5[:1])
    add("coco_two_images_one_ref", "two images, one reference each", [dict(im, references=im["references"][:1]) for im in coco5[:2]])
    add("coco_one_word", "one-word captions (no bigram: CIDEr's length quirk)",
        [dict(im, caption=rng.choice(["dog", "a", "man", "kitchen"])) for im in coco5[:8]])
    add("coco_tricky_text", "captions with contractions, parentheses, abbreviations, numbers",
        [dict(im, caption=TRICKY[n % len(TRICKY)]) for n, im in enumerate(coco5)])
    r = random.Random(15)
    vocab = "a man woman dog cat on the of with in sitting standing red two table street near".split()
    for k in range(20):
        ims = []
        for i in range(r.randint(1, 6)):
            nref = r.randint(1, 5)
            ims.append({"id": f"{k}-{i}",
                        "references": [" ".join(r.choice(vocab) for _ in range(r.randint(1, 9))) for _ in range(nref)],
                        "caption": " ".join(r.choice(vocab) for _ in range(r.randint(0, 10)))})
        add(f"random_{k:02}", "random words from a 16-word vocabulary", ims)
    texts = list(dict.fromkeys(all_captions + TRICKY + LIMITS + hyps))
    tokens = tokenize_all(texts)
    table = [{"text": t, "tokens": tok} for t, tok in zip(texts, tokens)]
    return cases, table


def main():
    import importlib.metadata as md
    versions = {p: md.version(p) for p in ("pycocotools", "pycocoevalcap", "numpy")}
    det = {"generator": "make_vision_references.py", "versions": versions, "cases": detection_cases()}
    cases, table = caption_cases()
    cap = {"generator": "make_vision_references.py", "versions": versions, "cases": cases, "tokenization": table}
    outputs = {
        "coco_vision_references.json": json.dumps(det, indent=1, ensure_ascii=False) + "\n",
        "caption_references.json": json.dumps(cap, indent=1, ensure_ascii=False) + "\n",
    }
    check = "--check" in sys.argv[1:]
    bad = False
    for name, text in outputs.items():
        path = os.path.join(HERE, name)
        if check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
            if old != text:
                print(f"{name}: differs from what the reference packages compute now", file=sys.stderr)
                bad = True
            else:
                print(f"{name}: unchanged")
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {name}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
