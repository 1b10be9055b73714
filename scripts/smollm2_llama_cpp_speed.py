"""Time llama.cpp (the `llama_cpp` Python package) on the prompts smollm2_speed wrote: the same
GGUF file, the same token ids, greedy decoding up to the same limit, the same stop ids.
Prints one line in smollm2_speed's table format (format `llama.cpp`).

Usage: python3 scripts/smollm2_llama_cpp_speed.py GGUF IDS.json THREADS
"""

import json
import sys
import time

import llama_cpp


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit("usage: smollm2_llama_cpp_speed.py GGUF IDS.json THREADS")
    gguf, ids_file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(ids_file) as f:
        spec = json.load(f)
    prompts, stop_ids, limit = spec["prompts"], set(spec["stop_ids"]), spec["max_new_tokens"]
    reference = spec["first_format_greedy"]
    t = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=gguf, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    load_s = time.perf_counter() - t
    prefill_s = total_s = 0.0
    gen_tok = 0
    equal = 0
    for ids, ref in zip(prompts, reference):
        # Prefill alone (timed apart, as smollm2_speed does), then the whole inference.
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        t1 = time.perf_counter()
        llm.reset()
        out = []
        for tok in llm.generate(ids, temp=0.0, top_k=1, reset=True):
            out.append(tok)
            if tok in stop_ids or len(out) >= limit:
                break
        prefill_s += t1 - t0
        total_s += time.perf_counter() - t1
        gen_tok += max(len(out) - 1, 0)
        equal += out == ref
    n = len(prompts)
    # Decode = whole inference - the prefill timed apart; "n/a" when that prefill took longer
    # than the whole inference (a loaded machine).
    decode_s = total_s - prefill_s
    decode = f"{gen_tok / decode_s:.1f}" if decode_s > 0 else "n/a"
    prompt_tok = sum(len(p) for p in prompts)
    print(
        f"llama.cpp\t{load_s:.2f}\t{total_s / n:.3f}\t{prompt_tok / n:.1f}\t"
        f"{prompt_tok / prefill_s:.0f}\t{decode}\t{equal}/{n}"
    )


if __name__ == "__main__":
    main()
