//! The tokenizer of a GGUF file, built from the file's own metadata (no tokenizer.json):
//! `tokenizer.ggml.model` (only `gpt2`, byte-level BPE, is supported), `.tokens`, `.merges`,
//! `.token_type` (control and user-defined tokens become added tokens, matched in the text
//! before BPE, as llama.cpp does with `parse_special` and transformers with its added tokens),
//! the bos/eos/padding ids, `add_bos_token`, and `tokenizer.ggml.pre`, which names the
//! pre-tokenizer split:
//!
//! | `tokenizer.ggml.pre` | split before byte-level BPE | as |
//! | --- | --- | --- |
//! | `smollm` | every digit alone, then the GPT-2 regex | llama.cpp's `LLAMA_VOCAB_PRE_TYPE_SMOLLM` (`\p{N}` then the GPT-2 pattern); SmolLM2's own tokenizer.json (`Digits(individual_digits)` + `ByteLevel`) |
//! | `gpt2`, `default` (or absent) | the GPT-2 regex | GPT-2's tokenizer |
//!
//! Any other value is refused naming the file and the value, rather than tokenizing wrongly.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::gguf_file::{Content, Value};
use std::path::Path;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, Tokenizer};

/// llama.cpp's token types (`llama_token_type`).
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// A GGUF file's tokenizer and its special ids.
#[derive(Clone)]
pub struct GgufTokenizer {
    pub tokenizer: Tokenizer,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    pub padding_id: Option<u32>,
    /// Whether llama.cpp prepends the BOS token (`tokenizer.ggml.add_bos_token`; SmolLM2: no).
    pub add_bos: bool,
    /// `tokenizer.ggml.pre`, as read.
    pub pre: String,
    /// The token strings, by id.
    pub tokens: Vec<String>,
}

impl std::fmt::Debug for GgufTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufTokenizer")
            .field("vocab", &self.tokens.len())
            .field("bos_id", &self.bos_id)
            .field("eos_id", &self.eos_id)
            .field("pre", &self.pre)
            .finish()
    }
}

fn get<'a>(ct: &'a Content, path: &Path, key: &str) -> Result<&'a Value> {
    ct.metadata.get(key).ok_or_else(|| {
        anyhow!(
            "{}: the GGUF metadata has no `{key}`, which the tokenizer needs (a GGUF converted \
             without its tokenizer cannot be run)",
            path.display()
        )
    })
}

fn strings(ct: &Content, path: &Path, key: &str) -> Result<Vec<String>> {
    let v = get(ct, path, key)?
        .to_vec()
        .map_err(|e| anyhow!("{}: `{key}` is not an array: {e}", path.display()))?;
    v.iter()
        .enumerate()
        .map(|(i, s)| {
            s.to_string()
                .cloned()
                .map_err(|e| anyhow!("{}: `{key}`[{i}] is not a string: {e}", path.display()))
        })
        .collect()
}

fn optional_id(ct: &Content, path: &Path, key: &str, vocab: usize) -> Result<Option<u32>> {
    let Some(v) = ct.metadata.get(key) else {
        return Ok(None);
    };
    let id = v
        .to_u32()
        .or_else(|_| v.to_i32().map(|i| i as u32))
        .map_err(|e| anyhow!("{}: `{key}` is not an integer: {e}", path.display()))?;
    if id as usize >= vocab {
        bail!(
            "{}: `{key}` = {id} is outside the vocabulary of {vocab} tokens",
            path.display()
        );
    }
    Ok(Some(id))
}

impl GgufTokenizer {
    /// Build the tokenizer from the metadata of `ct`, read from `path` (named in errors).
    pub fn from_gguf(ct: &Content, path: &Path) -> Result<GgufTokenizer> {
        let model = get(ct, path, "tokenizer.ggml.model")?
            .to_string()
            .map_err(|e| anyhow!("{}: `tokenizer.ggml.model`: {e}", path.display()))?;
        if model != "gpt2" {
            bail!(
                "{}: tokenizer model `{model}` (tokenizer.ggml.model) is not supported; only \
                 `gpt2` (byte-level BPE: SmolLM, Llama 3, Qwen2 files) is",
                path.display()
            );
        }
        let tokens = strings(ct, path, "tokenizer.ggml.tokens")?;
        let merges = strings(ct, path, "tokenizer.ggml.merges")?;
        let types: Vec<i32> = match ct.metadata.get("tokenizer.ggml.token_type") {
            None => vec![1; tokens.len()],
            Some(v) => v
                .to_vec()
                .map_err(|e| anyhow!("{}: `tokenizer.ggml.token_type`: {e}", path.display()))?
                .iter()
                .map(|t| t.to_i32().or_else(|_| t.to_u32().map(|u| u as i32)))
                .collect::<candle_core::Result<_>>()
                .map_err(|e| anyhow!("{}: `tokenizer.ggml.token_type`: {e}", path.display()))?,
        };
        if types.len() != tokens.len() {
            bail!(
                "{}: `tokenizer.ggml.token_type` has {} entries for {} tokens",
                path.display(),
                types.len(),
                tokens.len()
            );
        }
        let pre = match ct.metadata.get("tokenizer.ggml.pre") {
            None => "default".to_string(),
            Some(v) => v
                .to_string()
                .map_err(|e| anyhow!("{}: `tokenizer.ggml.pre`: {e}", path.display()))?
                .clone(),
        };
        let byte_level = PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true));
        let pre_tokenizer = match pre.as_str() {
            "smollm" => PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                byte_level,
            ])),
            "gpt2" | "default" => byte_level,
            other => bail!(
                "{}: pre-tokenizer `{other}` (tokenizer.ggml.pre) is not supported; supported: \
                 smollm, gpt2, default",
                path.display()
            ),
        };

        let mut vocab = tokenizers::models::bpe::Vocab::default();
        vocab.reserve(tokens.len());
        for (id, t) in tokens.iter().enumerate() {
            // llama.cpp keeps the first id of a duplicated string for text -> id.
            vocab.entry(t.clone()).or_insert(id as u32);
        }
        let mut pairs = Vec::with_capacity(merges.len());
        for (i, m) in merges.iter().enumerate() {
            let mut parts = m.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => {
                    for p in [a, b] {
                        if !vocab.contains_key(p) {
                            bail!(
                                "{}: merge {i} `{m}` (tokenizer.ggml.merges) names `{p}`, which is \
                                 not a token",
                                path.display()
                            );
                        }
                    }
                    pairs.push((a.to_string(), b.to_string()));
                }
                _ => bail!(
                    "{}: merge {i} `{m}` (tokenizer.ggml.merges) is not two tokens separated by one \
                     space",
                    path.display()
                ),
            }
        }
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, pairs)
            .build()
            .map_err(|e| anyhow!("{}: building the BPE model: {e}", path.display()))?;
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
        tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
        let added: Vec<AddedToken> = tokens
            .iter()
            .zip(&types)
            .filter(|(_, &t)| t == TOKEN_TYPE_CONTROL || t == TOKEN_TYPE_USER_DEFINED)
            .map(|(s, &t)| AddedToken::from(s.clone(), t == TOKEN_TYPE_CONTROL).normalized(false))
            .collect();
        tokenizer.add_special_tokens(&added);

        let n = tokens.len();
        let add_bos = match ct.metadata.get("tokenizer.ggml.add_bos_token") {
            None => false,
            Some(v) => v
                .to_bool()
                .map_err(|e| anyhow!("{}: `tokenizer.ggml.add_bos_token`: {e}", path.display()))?,
        };
        let bos_id = optional_id(ct, path, "tokenizer.ggml.bos_token_id", n)?;
        if add_bos && bos_id.is_none() {
            bail!(
                "{}: `tokenizer.ggml.add_bos_token` is true but there is no \
                 `tokenizer.ggml.bos_token_id`",
                path.display()
            );
        }
        Ok(GgufTokenizer {
            tokenizer,
            bos_id,
            eos_id: optional_id(ct, path, "tokenizer.ggml.eos_token_id", n)?,
            padding_id: optional_id(ct, path, "tokenizer.ggml.padding_token_id", n)?,
            add_bos,
            pre,
            tokens,
        })
    }

    /// Read only the metadata of a GGUF file and build its tokenizer.
    pub fn from_file(path: &Path) -> Result<GgufTokenizer> {
        let ct = crate::causal_lm::read_gguf(path)?;
        GgufTokenizer::from_gguf(&ct, path)
    }

    /// Token ids of `text`, special tokens in the text matched (as the rendered chat template
    /// needs), the BOS token prepended when the file asks for it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        let mut ids = Vec::with_capacity(enc.len() + 1);
        if self.add_bos {
            ids.extend(self.bos_id);
        }
        ids.extend_from_slice(enc.get_ids());
        Ok(ids)
    }

    /// Token ids of `text` without BOS (a continuation).
    pub fn encode_continuation(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of generated ids, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| anyhow!("decoding: {e}"))
            .context("decoding generated tokens")
    }

    /// The id of a token string, if it is one token.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }
}
