"""Reference embeddings of the tiny random XLM-RoBERTa sentence-transformers folder, computed by
sentence-transformers on PyTorch, for crates/backend-candle/tests/candle_xlmr.rs.

Usage (from the repository root; see README.md here):
  cargo run -p powerhungry-backend-candle --example tiny_xlmr -- /tmp/tiny-xlmr
  HF_HUB_OFFLINE=1 python crates/backend-candle/testdata/xlmr/make_reference.py /tmp/tiny-xlmr \
      crates/backend-candle/testdata/xlmr/tiny-xlmr-reference.json [SEED]
Needs torch, transformers and sentence-transformers (python/requirements-worker.txt pins them).
Each text is embedded alone (batch size 1) and all texts together (padded to the longest).
"""
import hashlib
import json
import os
import sys

import sentence_transformers
import tokenizers
import torch
import transformers
from sentence_transformers import SentenceTransformer

# Same texts as tiny_xlmr::reference_texts() in the Rust crate (the test checks).
TEXTS = [
    "the film was very good",
    "Der Film war sehr gut.",
    "यह \u095eिल्म बहुत अच्छी थी।",
    "这部电影很好。",
    "",
    "  Guten Morgen,   Straße!  ",
    "ＡＢＣ ﬁlm 2024",
    "mixed: Energie, ऊर्जा, 能源 🙂",
    "a",
    "\tनमस्ते\n",
    "\u001fFilm\u001c",
    "我喜欢这部电影",
    "Energie und energy, ऊर्जा और 能源. " * 30,
]


def sha256_of_folder(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, "rb") as fh:
                out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return dict(sorted(out.items()))


def main():
    mdir, out = sys.argv[1], sys.argv[2]
    # The seed the folder was made from (example tiny_xlmr's default: tiny_xlmr::REFERENCE_SEED).
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20251201
    torch.set_num_threads(1)
    m = SentenceTransformer(mdir, device="cpu")
    names = [type(mod).__name__ for mod in m]
    if names != ["Transformer", "Pooling"]:
        raise SystemExit(f"expected Transformer + Pooling modules, got {names}")
    alone = [m.encode([t], batch_size=1, convert_to_numpy=True)[0] for t in TEXTS]
    batched = m.encode(TEXTS, batch_size=len(TEXTS), convert_to_numpy=True)
    rows = []
    for t, a, b in zip(TEXTS, alone, batched):
        # sentence-transformers' own tokenization (it strips the text first).
        ids = m.tokenize([t])["input_ids"][0].tolist()
        rows.append({
            "text": t,
            "ids": ids,
            "embedding_alone": [float(x) for x in a],
            "embedding_batched": [float(x) for x in b],
        })
    meta = {
        "model": "tiny random XLM-RoBERTa sentence-transformers folder (crates/backend-candle/src/tiny_xlmr.rs)",
        "seed": seed,
        "files_sha256": sha256_of_folder(mdir),
        "producer": f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}, "
                    f"tokenizers {tokenizers.__version__}, torch {torch.__version__}, CPU, fp32, 1 thread",
        "modules": names,
        "max_seq_length": m.max_seq_length,
        "call": "SentenceTransformer(dir).encode(texts) with defaults (no normalize_embeddings); "
                "embedding_alone: one text per call, embedding_batched: all texts in one batch",
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, "rows": rows}, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(len(rows), "rows; max_seq_length", m.max_seq_length, "token counts", [len(r["ids"]) for r in rows])


if __name__ == "__main__":
    main()
