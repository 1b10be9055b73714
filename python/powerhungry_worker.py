"""powerhungry's Python worker: runs one Hugging Face pipeline for the harness.

The harness (crates/backend-python) starts this file with the user's Python and owns everything
else: the meter, the windows, the sample, the scoring. It speaks one JSON object per line:

    request  {"id": 7, "op": "infer", ...}
    answer   {"id": 7, "ok": true, ...}  or  {"id": 7, "ok": false, "error": "...", ...}

Ops: handshake, load, warmup, infer, unload, load_embedder, embed, load_diffusion, generate,
exit. The protocol is versioned (PROTOCOL); the
harness refuses a worker of another version. Only answers go to stdout: everything a library
prints goes to stderr (which the harness keeps the last lines of, for errors).
"""

import json
import sys
import time

PROTOCOL = 2

# The real stdout is ours alone; anything else that prints lands on stderr.
_answers = sys.stdout
sys.stdout = sys.stderr

_state = {"pipe": None, "task": None, "device": "cpu", "call_kwargs": {}, "embedder": None}


class MissingPackage(Exception):
    def __init__(self, package):
        super().__init__(f"the Python package `{package}` is not installed")
        self.package = package


def _import(name):
    try:
        return __import__(name)
    except ImportError as e:
        raise MissingPackage(name) from e


def _version(name):
    try:
        return __import__(name).__version__
    except ImportError:
        return None


def _sync():
    """Wait for queued GPU kernels, so their energy is billed to the window they belong to."""
    if _state["device"].startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def handshake(_req):
    import platform

    cuda, device_name = False, platform.processor() or platform.machine()
    try:
        import torch

        cuda = bool(torch.cuda.is_available())
        if cuda:
            device_name = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {
        "protocol": PROTOCOL,
        "python": platform.python_version(),
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "diffusers": _version("diffusers"),
        "cuda": cuda,
        "device_name": device_name,
    }


def load(req):
    _import("torch")
    transformers = _import("transformers")
    import torch

    # A failed load must not leave the previous pipeline answering.
    _state["pipe"], _state["task"] = None, None
    kwargs = dict(req.get("kwargs") or {})
    device = req.get("device") or "cpu"
    if req.get("dtype"):
        kwargs["torch_dtype"] = getattr(torch, req["dtype"])
    gguf_file = kwargs.pop("gguf_file", None)
    if gguf_file:
        # A GGUF file (dequantised by transformers): model and tokenizer are built from it
        # here, since pipeline() reads a config.json the folder does not have.
        dtype = {"torch_dtype": kwargs.pop("torch_dtype")} if "torch_dtype" in kwargs else {}
        model = transformers.AutoModelForCausalLM.from_pretrained(req["model"], gguf_file=gguf_file, **dtype)
        tok = transformers.AutoTokenizer.from_pretrained(req["model"], gguf_file=gguf_file)
        pipe = transformers.pipeline(req["task"], model=model, tokenizer=tok, device=device, **kwargs)
    else:
        pipe = transformers.pipeline(req["task"], model=req["model"], device=device, **kwargs)
    _state["pipe"] = pipe
    _state["task"] = req["task"]
    _state["device"] = device
    _state["call_kwargs"] = dict(req.get("call_kwargs") or {})
    _sync()
    pipe = _state["pipe"]
    tok = getattr(pipe, "tokenizer", None)
    model = pipe.model
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "model_class": type(model).__name__,
        "mask_token": getattr(tok, "mask_token", None) if tok is not None else None,
    }


def _count_tokens(text):
    tok = getattr(_state["pipe"], "tokenizer", None)
    if tok is None or not isinstance(text, str):
        return 0
    return len(tok(text, add_special_tokens=False)["input_ids"])


def _generated_text(out):
    """The text a generating pipeline returned, for counting its tokens."""
    first = out[0] if isinstance(out, list) and out else out
    if isinstance(first, dict):
        return first.get("generated_text") or first.get("summary_text")
    return None


def _prompt_input(prompt):
    """A zero-shot prompt ({system, user}): chat messages where the tokenizer has a chat
    template (the pipeline renders them, assistant turn opened), else one completion string."""
    tok = getattr(_state["pipe"], "tokenizer", None)
    system, user = prompt.get("system"), prompt["user"]
    if tok is not None and getattr(tok, "chat_template", None):
        messages = [{"role": "system", "content": system}] if system else []
        return messages + [{"role": "user", "content": user}]
    return f"{system}\n\n{user}" if system else user


def _call(item):
    pipe = _state["pipe"]
    if isinstance(item, dict) and "prompt" in item:
        return pipe(_prompt_input(item["prompt"]), **_state["call_kwargs"])
    if isinstance(item, dict):
        return pipe(**item, **_state["call_kwargs"])
    return pipe(item, **_state["call_kwargs"])


def _plain(value):
    """Pipeline outputs as JSON: numpy scalars to numbers, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def _input_text(item):
    """The text an input holds, for counting its tokens."""
    if not isinstance(item, dict):
        return item
    if "prompt" in item:
        return (item["prompt"].get("system") or "") + "\n\n" + item["prompt"]["user"]
    return item.get("question", "") + " " + item.get("context", "")


def infer(req):
    if _state["pipe"] is None:
        raise RuntimeError("infer before load")
    results = []
    for item in req["inputs"]:
        start = time.perf_counter_ns()
        out = _call(item)
        _sync()
        seconds = (time.perf_counter_ns() - start) / 1e9
        text_in = _input_text(item)
        results.append(
            {
                "output": _plain(out),
                "seconds": seconds,
                "input_tokens": _count_tokens(text_in),
                "output_tokens": _count_tokens(_generated_text(out)),
            }
        )
    return {"results": results}


def load_embedder(req):
    """A sentence-transformers model (embeddings for the traditional classifiers)."""
    _import("torch")
    st = _import("sentence_transformers")
    _state["embedder"] = None
    device = req.get("device") or "cpu"
    model = st.SentenceTransformer(req["model"], device=device)
    _state["embedder"], _state["device"] = model, device
    _sync()
    return {
        "dimension": model.get_sentence_embedding_dimension(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "max_seq_length": model.max_seq_length,
    }


def embed(req):
    model = _state.get("embedder")
    if model is None:
        raise RuntimeError("embed before load_embedder")
    texts = req["texts"]
    start = time.perf_counter_ns()
    vectors = model.encode(texts, convert_to_numpy=True)
    _sync()
    seconds = (time.perf_counter_ns() - start) / 1e9
    limit = model.max_seq_length
    tokens = [min(len(ids), limit) for ids in model.tokenizer(texts)["input_ids"]]
    return {"vectors": vectors.tolist(), "tokens": tokens, "seconds": seconds}


def load_diffusion(req):
    """A diffusers pipeline from a local folder (DiffusionPipeline picks the class from its
    model_index.json); float32 unless a dtype is given, on CUDA when there is one."""
    _import("torch")
    _import("transformers")
    diffusers = _import("diffusers")
    import torch

    _state["pipe"], _state["task"] = None, None
    kwargs = dict(req.get("kwargs") or {})
    kwargs["torch_dtype"] = getattr(torch, req.get("dtype") or "float32")
    device = req.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    pipe = diffusers.DiffusionPipeline.from_pretrained(req["model"], **kwargs).to(device)
    pipe.set_progress_bar_config(disable=True)
    _state["pipe"], _state["task"], _state["device"] = pipe, "diffusion", device
    _state["call_kwargs"] = dict(req.get("call_kwargs") or {})
    _sync()
    modules = [c for c in pipe.components.values() if isinstance(c, torch.nn.Module)]
    return {
        "parameters": sum(p.numel() for m in modules for p in m.parameters()),
        "model_class": type(pipe).__name__,
        "device": device,
        "dtype": str(kwargs["torch_dtype"]).removeprefix("torch."),
    }


def _prompt_tokens(prompt):
    """Tokens of the prompt the text encoder reads (CLIP cuts at its 77, specials included)."""
    tok = getattr(_state["pipe"], "tokenizer", None)
    if tok is None:
        return 0
    n = len(tok(prompt, add_special_tokens=False)["input_ids"])
    limit = getattr(tok, "model_max_length", None)
    return min(n, limit - 2) if isinstance(limit, int) and 2 < limit < 100_000 else n


def generate(req):
    """One image per input ({prompt, seed, path}), written by us as PNG to `path` (never
    through the pipe). The generator is a CPU one seeded with `seed` for each image, so an
    image depends on its prompt and seed only, on any device."""
    import inspect
    import os

    import torch

    pipe = _state["pipe"]
    if pipe is None or _state["task"] != "diffusion":
        raise RuntimeError("generate before load_diffusion")
    accepts = inspect.signature(pipe.__call__).parameters
    results = []
    for item in req["inputs"]:
        kwargs = dict(_state["call_kwargs"])
        steps = [0]

        def count_step(_pipe, _i, _t, tensors):
            steps[0] += 1
            return tensors

        if "callback_on_step_end" in accepts:
            kwargs["callback_on_step_end"] = count_step
        start = time.perf_counter_ns()
        generator = torch.Generator(device="cpu").manual_seed(int(item["seed"]))
        out = pipe(item["prompt"], generator=generator, **kwargs)
        _sync()
        seconds = (time.perf_counter_ns() - start) / 1e9
        image = out.images[0]
        path = item["path"]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        # Written whole, then renamed: a kill mid-write never leaves a half PNG at `path`.
        tmp = path + ".part"
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
        if not steps[0]:
            steps[0] = int(kwargs.get("num_inference_steps") or len(getattr(pipe.scheduler, "timesteps", [])))
        results.append(
            {
                "path": path,
                "width": image.width,
                "height": image.height,
                "steps": steps[0],
                "seconds": seconds,
                "input_tokens": _prompt_tokens(item["prompt"]),
            }
        )
    return {"results": results}


def warmup(req):
    return infer(req)


def unload(_req):
    _state["pipe"], _state["embedder"] = None, None
    import gc

    gc.collect()
    if _state["device"].startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    return {}


OPS = {
    "handshake": handshake,
    "load": load,
    "infer": infer,
    "warmup": warmup,
    "unload": unload,
    "load_embedder": load_embedder,
    "embed": embed,
    "load_diffusion": load_diffusion,
    "generate": generate,
}


def _answer(obj):
    _answers.write(json.dumps(obj) + "\n")
    _answers.flush()


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            _answer({"id": None, "ok": False, "error": f"not a JSON request: {e}"})
            continue
        rid, op = req.get("id"), req.get("op")
        if op == "exit":
            _answer({"id": rid, "ok": True})
            return
        handler = OPS.get(op)
        if handler is None:
            _answer({"id": rid, "ok": False, "error": f"unknown op {op!r}"})
            continue
        try:
            _answer({"id": rid, "ok": True, **handler(req)})
        except MissingPackage as e:
            _answer({"id": rid, "ok": False, "error": str(e), "missing_package": e.package})
        except Exception as e:  # the harness fails the repetition with this and stderr's tail
            import traceback

            traceback.print_exc(file=sys.stderr)
            _answer({"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
