"""A tiny random-weight Stable Diffusion pipeline for the worker's image-generation tests, built
from configs (no download), and the same pipeline called directly, for comparison.

    python3 tiny_diffusion.py build OUT_DIR
    python3 tiny_diffusion.py direct MODEL_DIR PROMPT SEED STEPS HEIGHT WIDTH OUT.png

`build` writes a diffusers folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
scheduler/). `direct` runs it as the worker does (CPU generator seeded with SEED, float32) and
saves the image as PNG. Weights are seeded, so a pipeline built twice is the same pipeline.
"""

import json
import os
import sys

import torch


def _byte_symbols():
    # CLIP's (GPT-2's) printable stand-ins for the 256 bytes: its byte-level BPE alphabet.
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def _tokenizer(out):
    import transformers as tf

    # Every byte symbol, alone and word-final, no merges: any text tokenizes (a char a token).
    symbols = _byte_symbols()
    vocab = {}
    for s in symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]:
        vocab[s] = len(vocab)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(out, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    tok = tf.CLIPTokenizer(
        vocab_file=os.path.join(out, "vocab.json"),
        merges_file=os.path.join(out, "merges.txt"),
        model_max_length=77,
    )
    return tok, len(vocab)


def build(out):
    import diffusers as df
    import transformers as tf

    torch.manual_seed(0)
    tok, vocab_size = _tokenizer(os.path.join(out, "tokenizer-src"))
    text = tf.CLIPTextModel(
        tf.CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )
    )
    unet = df.UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    vae = df.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=16,
    )
    scheduler = df.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = df.StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tok,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out)
    import shutil

    shutil.rmtree(os.path.join(out, "tokenizer-src"))


def direct(model_dir, prompt, seed, steps, height, width, out_png):
    import diffusers as df

    pipe = df.DiffusionPipeline.from_pretrained(model_dir, torch_dtype=torch.float32).to("cpu")
    pipe.set_progress_bar_config(disable=True)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    image = pipe(
        prompt,
        generator=generator,
        num_inference_steps=int(steps),
        height=int(height),
        width=int(width),
    ).images[0]
    image.save(out_png, format="PNG")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build" and len(sys.argv) == 3:
        build(sys.argv[2])
    elif cmd == "direct" and len(sys.argv) == 9:
        direct(*sys.argv[2:])
    else:
        raise SystemExit(__doc__)
