"""Tiny random-weight models for the worker's tests, built from configs (no download), and the
same pipelines called directly, for comparison with what the worker returned.

    python3 tiny_models.py build OUT_DIR [NAME...]   # bert-tc bert-qa bert-ner bert-mlm gpt2 vit
    python3 tiny_models.py direct MODEL_DIR PIPELINE INPUTS.json CALL_KWARGS.json

`direct` prints one JSON list: the pipeline's answer to each input, as the worker serialises it.
Weights are seeded, so a model built twice is the same model.
"""

import json
import os
import string
import sys

import torch
import transformers as tf

CONLL_TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def _bert_tokenizer(out):
    # Characters and word pieces of them: every lower-cased English text tokenizes.
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    words = ["the", "a", "of", "and", "to", "is", "in", "it", "film", "movie", "that", "this"]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + chars + ["##" + c for c in chars]
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "vocab.txt")
    with open(path, "w") as f:
        f.write("\n".join(vocab) + "\n")
    return tf.BertTokenizerFast(vocab_file=path, do_lower_case=True)


def _byte_symbols():
    # GPT-2's printable stand-ins for the 256 bytes (its byte-level BPE alphabet).
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def _bert_config(tok, **extra):
    return tf.BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        **extra,
    )


def _save(model, tok, out, processor=None):
    model.eval()
    model.save_pretrained(out)
    if tok is not None:
        tok.save_pretrained(out)
    if processor is not None:
        processor.save_pretrained(out)


def build(name, out):
    torch.manual_seed(0)
    if name in ("bert-tc", "bert-qa", "bert-ner", "bert-mlm"):
        tok = _bert_tokenizer(out)
        if name == "bert-tc":
            model = tf.BertForSequenceClassification(_bert_config(tok, num_labels=2))
        elif name == "bert-qa":
            model = tf.BertForQuestionAnswering(_bert_config(tok))
        elif name == "bert-ner":
            cfg = _bert_config(
                tok,
                num_labels=len(CONLL_TAGS),
                id2label=dict(enumerate(CONLL_TAGS)),
                label2id={t: i for i, t in enumerate(CONLL_TAGS)},
            )
            model = tf.BertForTokenClassification(cfg)
        else:
            model = tf.BertForMaskedLM(_bert_config(tok))
        _save(model, tok, out)
    elif name == "gpt2":
        os.makedirs(out, exist_ok=True)
        # Byte-level BPE over the 256 byte symbols, no merges: any text tokenizes.
        vocab = {ch: i for i, ch in enumerate(_byte_symbols())}
        vocab["<|endoftext|>"] = len(vocab)
        with open(os.path.join(out, "vocab.json"), "w") as f:
            json.dump(vocab, f)
        with open(os.path.join(out, "merges.txt"), "w") as f:
            f.write("#version: 0.2\n")
        tok = tf.GPT2TokenizerFast(
            vocab_file=os.path.join(out, "vocab.json"), merges_file=os.path.join(out, "merges.txt")
        )
        eos = vocab["<|endoftext|>"]
        cfg = tf.GPT2Config(
            vocab_size=len(vocab), n_positions=256, n_embd=32, n_layer=2, n_head=2, bos_token_id=eos, eos_token_id=eos
        )
        model = tf.GPT2LMHeadModel(cfg)
        model.generation_config.pad_token_id = cfg.eos_token_id
        _save(model, tok, out)
    elif name == "vit":
        labels = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        cfg = tf.ViTConfig(
            image_size=32,
            patch_size=8,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={l: i for i, l in enumerate(labels)},
        )
        proc = tf.ViTImageProcessor(size={"height": 32, "width": 32})
        _save(tf.ViTForImageClassification(cfg), None, out, proc)
    else:
        raise SystemExit(f"unknown tiny model {name!r}")


def _plain(value):
    # The worker's serialisation (python/powerhungry_worker.py), so the two compare as JSON.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def direct(model_dir, task, inputs_path, kwargs_path):
    with open(inputs_path) as f:
        inputs = json.load(f)
    with open(kwargs_path) as f:
        kwargs = json.load(f)
    pipe = tf.pipeline(task, model=model_dir, device="cpu")
    out = []
    for item in inputs:
        res = pipe(**item, **kwargs) if isinstance(item, dict) else pipe(item, **kwargs)
        out.append(_plain(res))
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build" and len(sys.argv) >= 3:
        names = sys.argv[3:] or ["bert-tc", "bert-qa", "bert-ner", "bert-mlm", "gpt2", "vit"]
        for n in names:
            build(n, os.path.join(sys.argv[2], n))
    elif cmd == "direct" and len(sys.argv) == 6:
        direct(*sys.argv[2:])
    else:
        raise SystemExit(__doc__)
