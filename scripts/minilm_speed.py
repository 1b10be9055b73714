"""sentence-transformers (PyTorch, CPU) speed on all-MiniLM-L6-v2, the counterpart of
crates/backend-candle/examples/minilm_speed.rs: same sentences file, same batch sizes, each batch of
consecutive sentences passed to encode() on its own (so sorting by length happens only within a
batch, as in the candle embedder), median of 3 passes, wall and process CPU time.

Usage: python minilm_speed.py MODEL_DIR SENTENCES_FILE THREADS [BATCH ...]
Prints one JSON object per batch size.
"""
import json
import os
import statistics
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

REPEATS = 3


def main():
    model_dir, sentences_file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    batches = [int(b) for b in sys.argv[4:]] or [1, 32]
    torch.set_num_threads(threads)
    sentences = open(sentences_file, encoding="utf-8").read().splitlines()
    model = SentenceTransformer(model_dir, device="cpu")
    for batch in batches:
        chunks = [sentences[i : i + batch] for i in range(0, len(sentences), batch)]
        with torch.inference_mode():
            for chunk in chunks[:4]:  # warm-up
                model.encode(chunk, batch_size=batch, convert_to_numpy=True)
            walls, cpus = [], []
            for _ in range(REPEATS):
                t0, c0 = time.perf_counter(), time.process_time()
                for chunk in chunks:
                    model.encode(chunk, batch_size=batch, convert_to_numpy=True)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
        n = len(sentences)
        print(json.dumps({
            "impl": f"sentence-transformers {__import__('sentence_transformers').__version__}, torch {torch.__version__}",
            "batch": batch,
            "sentences": n,
            "wall_ms_per_sentence": round(statistics.median(walls) * 1e3 / n, 3),
            "cpu_s_total": round(statistics.median(cpus), 3),
            "cpu_ms_per_sentence": round(statistics.median(cpus) * 1e3 / n, 3),
            "threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        }), flush=True)


if __name__ == "__main__":
    main()
