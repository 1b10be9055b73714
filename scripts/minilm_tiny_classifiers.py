"""Reference logits of the tiny random sequence classifiers (BERT, DistilBERT, RoBERTa) from
Python transformers, for crates/backend-candle/tests/candle_classifier.rs. (Named minilm_* with the other
candle-backend scripts; it has nothing to do with MiniLM's weights.)

Usage:
  cargo run -p powerhungry-backend-candle --example tiny_models -- DIR
  python scripts/minilm_tiny_classifiers.py DIR crates/backend-candle/testdata/minilm/tiny_classifiers_reference.json
Needs torch and transformers. Each text is run alone (no padding) and all texts together
(right-padded, attention mask): both are recorded.
"""
import json
import sys

import tokenizers
import torch
import transformers
from transformers import AutoModelForSequenceClassification

# Same texts as tiny::REFERENCE_TEXTS in the Rust crate.
TEXTS = [
    "the film was good",
    "i hated the plot , and the actors were dull . not fun , not great , very bad .",
    "a",
    "Great fun!",
]


def main():
    root, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    result = {
        "producer": f"transformers {transformers.__version__}, torch {torch.__version__}, CPU, fp32, eval mode",
        "texts": TEXTS,
        "models": {},
    }
    for family in ["bert", "distilbert", "roberta"]:
        d = f"{root}/{family}"
        model, info = AutoModelForSequenceClassification.from_pretrained(d, output_loading_info=True)
        bad = {k: v for k, v in info.items() if v}
        if bad:
            raise SystemExit(f"{family}: weights did not load cleanly: {bad}")
        model.eval()
        tok = tokenizers.Tokenizer.from_file(f"{d}/tokenizer.json")
        pad = model.config.pad_token_id
        ids = [tok.encode(t).ids for t in TEXTS]
        with torch.no_grad():
            alone = [model(input_ids=torch.tensor([i])).logits[0].tolist() for i in ids]
            width = max(len(i) for i in ids)
            padded = torch.tensor([i + [pad] * (width - len(i)) for i in ids])
            mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])
            batched = model(input_ids=padded, attention_mask=mask).logits.tolist()
        result["models"][family] = {
            "id2label": model.config.id2label,
            "ids": ids,
            "logits_alone": alone,
            "logits_batched": batched,
        }
        print(family, [max(range(len(l)), key=l.__getitem__) for l in alone])
    json.dump(result, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
