//! Decoder language models from GGUF files (the Llama architecture, quantized, through
//! candle-transformers' `quantized_llama`), a decoding loop, and the zero-shot backend.
//!
//! - [`read_gguf`]: the header, checked before any weight is read: unknown tensor types
//!   (candle's list), a truncated file (every tensor's bytes must lie inside the file), the
//!   architecture. Errors name the file.
//! - [`GgufLm`]: weights (as stored, or re-encoded at load for speed: [`crate::reencode`]) +
//!   [`GgufTokenizer`] + [`ChatTemplate`], all from the one file;
//!   [`GgufLm::generate`] (greedy by default; temperature, top-p and seed as options; stops on
//!   the end-of-turn ids or after `max_new_tokens`) and [`GgufLm::score`] (log-likelihood of
//!   continuations).
//! - [`CausalLm`]: the [`Backend`]: builds the task's prompt (`tasks::prompts`), renders the
//!   chat template, generates, parses the answer.
//!
//! KV cache: `quantized_llama::ModelWeights::forward` at position 0 drops the cache of every
//! layer, so each input starts clean without reloading anything (the cost of a reset is nil).

use crate::chat_template::{messages, ChatTemplate, Message};
use crate::gguf_tokenizer::GgufTokenizer;
use crate::reencode::reencode;
pub use crate::reencode::WeightFormat;
use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::generation::LogitsProcessor;
use candle_transformers::models::quantized_llama::{ModelWeights, MAX_SEQ_LEN};
use powerhungry_tasks::prompts::{
    build_prompt, choices, parse_answer, Prompt, PromptStyle, ZeroShotMode,
};
use powerhungry_tasks::{Backend, Example, Input, ModelInfo, Output, Prediction, TaskName};
use std::path::{Path, PathBuf};

/// Tensor types candle 0.9.2 reads (for the error of a file that has another).
const CANDLE_TYPES: &str = "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, \
                            Q5_K, Q6_K, Q8_K";

/// Read and check a GGUF file's header (metadata and tensor table), no weights.
pub fn read_gguf(path: &Path) -> Result<Content> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the GGUF file {}", path.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    let ct = Content::read(&mut f).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("unknown dtype") {
            anyhow!(
                "{}: a tensor has a quantisation type candle 0.9.2 cannot read ({msg}); supported: \
                 {CANDLE_TYPES}",
                path.display()
            )
        } else {
            anyhow!(
                "{}: not a readable GGUF file (truncated or corrupt header?): {msg}",
                path.display()
            )
        }
    })?;
    let mut worst: Option<(u64, &str)> = None;
    for (name, info) in &ct.tensor_infos {
        let elems = info.shape.elem_count();
        let block = info.ggml_dtype.block_size();
        if elems % block != 0 {
            bail!(
                "{}: tensor `{name}` has {elems} elements, not a multiple of the {:?} block size {block}",
                path.display(),
                info.ggml_dtype
            );
        }
        let end = ct.tensor_data_offset
            + info.offset
            + (elems / block * info.ggml_dtype.type_size()) as u64;
        if worst.is_none_or(|(w, _)| end > w) {
            worst = Some((end, name));
        }
    }
    if let Some((end, name)) = worst {
        if end > len {
            bail!(
                "{}: the file is truncated: it has {len} bytes, and tensor `{name}` needs bytes up \
                 to {end} (download it again; scripts/fetch-smollm2.sh checks the sha256)",
                path.display()
            );
        }
    }
    Ok(ct)
}

/// How to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Stop after this many generated tokens (the stop token counts as one).
    pub max_new_tokens: usize,
    /// None (or 0): greedy, deterministic.
    pub temperature: Option<f64>,
    /// Nucleus sampling with the temperature.
    pub top_p: Option<f64>,
    pub seed: u64,
    /// Keep the logits of the first generated position (for parity tests).
    pub keep_first_logits: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_new_tokens: 8,
            temperature: None,
            top_p: None,
            seed: 42,
            keep_first_logits: false,
        }
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// An end-of-turn / end-of-sequence token was generated.
    EndOfTurn,
    /// `max_new_tokens` were generated without one (recorded, not an error).
    MaxNewTokens,
}

/// One generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Generated ids, the stop token included when there was one.
    pub tokens: Vec<u32>,
    pub stop: StopReason,
    /// Logits of the first generated position, when asked.
    pub first_logits: Option<Vec<f32>>,
}

impl Generation {
    /// Generated ids without the stop token.
    pub fn content(&self) -> &[u32] {
        match self.stop {
            StopReason::EndOfTurn => &self.tokens[..self.tokens.len() - 1],
            StopReason::MaxNewTokens => &self.tokens,
        }
    }
}

/// A GGUF decoder model with its tokenizer and chat template.
pub struct GgufLm {
    weights: ModelWeights,
    pub tokenizer: GgufTokenizer,
    /// The file's `tokenizer.chat_template`, when it has one.
    pub template: Option<ChatTemplate>,
    /// Generation stops on these ids: the file's EOS, and the end-of-turn tokens it has.
    pub stop_ids: Vec<u32>,
    /// Longest prompt + generation: the file's context length, capped by candle's rotary
    /// table (`MAX_SEQ_LEN` = 4096).
    pub context: usize,
    pub path: PathBuf,
    pub parameters: u64,
    pub description: String,
    device: Device,
}

impl std::fmt::Debug for GgufLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufLm")
            .field("path", &self.path)
            .field("description", &self.description)
            .finish()
    }
}

fn meta_u32(ct: &Content, path: &Path, key: &str) -> Result<u32> {
    ct.metadata
        .get(key)
        .ok_or_else(|| anyhow!("{}: the GGUF metadata has no `{key}`", path.display()))?
        .to_u32()
        .map_err(|e| anyhow!("{}: `{key}`: {e}", path.display()))
}

impl GgufLm {
    /// Load everything from one GGUF file, on the CPU, the weights as stored.
    pub fn load(path: &Path) -> Result<GgufLm> {
        GgufLm::load_with(path, WeightFormat::AsStored)
    }

    /// Load everything from one GGUF file, on the CPU, the weights re-encoded to `weights`
    /// ([`crate::reencode`]; the description says what was re-encoded).
    pub fn load_with(path: &Path, weights: WeightFormat) -> Result<GgufLm> {
        let ct = read_gguf(path)?;
        let arch = ct
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if arch != "llama" {
            bail!(
                "{}: architecture `{arch}` (general.architecture) is not supported; the GGUF \
                 decoder runs `llama` (Llama, SmolLM, Mistral-style files)",
                path.display()
            );
        }
        for key in [
            "llama.attention.head_count",
            "llama.attention.head_count_kv",
            "llama.block_count",
            "llama.embedding_length",
            "llama.rope.dimension_count",
        ] {
            meta_u32(&ct, path, key)?;
        }
        let tokenizer = GgufTokenizer::from_gguf(&ct, path)?;
        let token_text = |id: Option<u32>| {
            id.and_then(|i| tokenizer.tokens.get(i as usize).cloned())
                .unwrap_or_default()
        };
        let template = match ct.metadata.get("tokenizer.chat_template") {
            None => None,
            Some(v) => {
                let t = v
                    .to_string()
                    .map_err(|e| anyhow!("{}: `tokenizer.chat_template`: {e}", path.display()))?;
                Some(ChatTemplate::new(
                    t,
                    &format!("{}: tokenizer.chat_template", path.display()),
                    &token_text(tokenizer.bos_id),
                    &token_text(tokenizer.eos_id),
                )?)
            }
        };
        let mut stop_ids: Vec<u32> = tokenizer.eos_id.into_iter().collect();
        if let Ok(eot) = meta_u32(&ct, path, "tokenizer.ggml.eot_token_id") {
            stop_ids.push(eot);
        }
        for t in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"] {
            if let Some(id) = tokenizer.token_id(t) {
                stop_ids.push(id);
            }
        }
        stop_ids.sort_unstable();
        stop_ids.dedup();
        if stop_ids.is_empty() {
            bail!(
                "{}: no end-of-sequence token (tokenizer.ggml.eos_token_id, <|im_end|>, \
                 <|endoftext|>): generation could not stop",
                path.display()
            );
        }
        let context = ct
            .metadata
            .get("llama.context_length")
            .and_then(|v| v.to_u32().ok())
            .map_or(MAX_SEQ_LEN, |c| (c as usize).min(MAX_SEQ_LEN));
        let mut parameters: u64 = 0;
        let mut types = std::collections::BTreeMap::<String, usize>::new();
        for info in ct.tensor_infos.values() {
            parameters += info.shape.elem_count() as u64;
            *types.entry(format!("{:?}", info.ggml_dtype)).or_default() += 1;
        }
        let name = ct
            .metadata
            .get("general.name")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_else(|| path.display().to_string());
        let types: Vec<String> = types.iter().map(|(t, n)| format!("{n} {t}")).collect();
        let device = Device::Cpu;
        let (weights, ran_as) = match reencode(&ct, path, weights, &device)? {
            Some(mut r) => (
                ModelWeights::from_gguf(r.content, &mut r.file, &device),
                format!("; {}", r.what),
            ),
            None => {
                let mut f = std::fs::File::open(path)
                    .with_context(|| format!("cannot open the GGUF file {}", path.display()))?;
                (
                    ModelWeights::from_gguf(ct, &mut f, &device),
                    "; weights as stored".to_string(),
                )
            }
        };
        let weights =
            weights.map_err(|e| anyhow!("{}: loading the weights: {e}", path.display()))?;
        let description = format!(
            "{name} ({arch}, GGUF, tensors {}{ran_as}) on candle quantized_llama, CPU",
            types.join(" + ")
        );
        Ok(GgufLm {
            weights,
            tokenizer,
            template,
            stop_ids,
            context,
            path: path.to_path_buf(),
            parameters,
            description,
            device,
        })
    }

    /// The prompt as the model reads it: through the chat template (assistant turn opened)
    /// when the file has one, else as one completion string.
    pub fn render(&self, prompt: &Prompt) -> Result<String> {
        match &self.template {
            Some(t) => t.render(&messages(prompt), true),
            None => Ok(prompt.as_completion()),
        }
    }

    /// Render arbitrary messages (tests).
    pub fn render_messages(&self, msgs: &[Message], add_generation_prompt: bool) -> Result<String> {
        match &self.template {
            Some(t) => t.render(msgs, add_generation_prompt),
            None => bail!(
                "{}: the file has no tokenizer.chat_template",
                self.path.display()
            ),
        }
    }

    fn check_length(&self, prompt: usize, extra: usize) -> Result<()> {
        if prompt == 0 {
            bail!("the prompt has no tokens");
        }
        if prompt + extra > self.context {
            bail!(
                "{}: the prompt has {prompt} tokens and {extra} more are asked for, beyond the \
                 context of {} tokens",
                self.path.display(),
                self.context
            );
        }
        Ok(())
    }

    fn forward(&mut self, ids: &[u32], pos: usize) -> Result<Tensor> {
        let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let logits = self.weights.forward(&input, pos)?;
        Ok(logits.squeeze(0)?)
    }

    /// Logits after reading `ids` from position 0 (the next token's distribution).
    pub fn prompt_logits(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        self.check_length(ids.len(), 0)?;
        Ok(self.forward(ids, 0)?.to_vec1::<f32>()?)
    }

    /// Generate after `ids` (the whole prompt, read from position 0: the KV cache is reset).
    pub fn generate(&mut self, ids: &[u32], opts: &GenerateOptions) -> Result<Generation> {
        if opts.max_new_tokens == 0 {
            bail!("max_new_tokens must be at least 1");
        }
        self.check_length(ids.len(), opts.max_new_tokens)?;
        let mut sampler = LogitsProcessor::new(opts.seed, opts.temperature, opts.top_p);
        let mut logits = self.forward(ids, 0)?;
        let first_logits = if opts.keep_first_logits {
            Some(logits.to_vec1::<f32>()?)
        } else {
            None
        };
        let mut tokens = Vec::with_capacity(opts.max_new_tokens);
        let stop = loop {
            let next = sampler.sample(&logits)?;
            tokens.push(next);
            if self.stop_ids.contains(&next) {
                break StopReason::EndOfTurn;
            }
            if tokens.len() >= opts.max_new_tokens {
                break StopReason::MaxNewTokens;
            }
            logits = self.forward(&[next], ids.len() + tokens.len() - 1)?;
        };
        Ok(Generation {
            tokens,
            stop,
            first_logits,
        })
    }

    /// Summed log-probability of each continuation after `ids` (the prompt is read once; each
    /// continuation extends a copy of its KV cache).
    pub fn score(&mut self, ids: &[u32], continuations: &[Vec<u32>]) -> Result<Vec<f64>> {
        let longest = continuations.iter().map(Vec::len).max().unwrap_or(0);
        self.check_length(ids.len(), longest)?;
        let first = self.forward(ids, 0)?.to_vec1::<f32>()?;
        let base = self.weights.clone();
        let mut out = Vec::with_capacity(continuations.len());
        for c in continuations {
            if c.is_empty() {
                bail!("an empty continuation cannot be scored");
            }
            let mut lp = log_prob(&first, c[0]);
            self.weights = base.clone();
            for j in 1..c.len() {
                let l = self
                    .forward(&c[j - 1..j], ids.len() + j - 1)?
                    .to_vec1::<f32>()?;
                lp += log_prob(&l, c[j]);
            }
            out.push(lp);
        }
        self.weights = base;
        Ok(out)
    }
}

/// log softmax(logits)[id], in f64.
pub fn log_prob(logits: &[f32], id: u32) -> f64 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
    let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    logits
        .get(id as usize)
        .map_or(f64::NEG_INFINITY, |&x| x as f64 - max - sum.ln())
}

/// Options of the zero-shot backend (the suite's `options`, checked by the registry).
#[derive(Debug, Clone, PartialEq)]
pub struct CausalLmOptions {
    pub prompt: PromptStyle,
    pub mode: ZeroShotMode,
    /// None: the task's default ([`default_max_new_tokens`]).
    pub max_new_tokens: Option<usize>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// What the weights run as: re-encoded at load for speed (default F32), or as stored.
    pub weights: WeightFormat,
}

impl Default for CausalLmOptions {
    fn default() -> Self {
        CausalLmOptions {
            prompt: PromptStyle::Study,
            mode: ZeroShotMode::Generate,
            max_new_tokens: None,
            temperature: None,
            top_p: None,
            seed: 42,
            weights: WeightFormat::default(),
        }
    }
}

/// The tasks a causal LM answers zero-shot.
pub const CAUSAL_LM_TASKS: &[TaskName] = &[
    TaskName::TextClassification,
    TaskName::ExtractiveQa,
    TaskName::Summarization,
    TaskName::TextGeneration,
];

/// Default generation limit per task. The study: text generation `max_new_tokens=10`,
/// summarization 15 (BLOOMz), sentiment 1 (BLOOMz, whose first token is the label). A chat
/// model opens with a phrase: SmolLM2 answers the study prompt with "The binary sentiment of
/// the sentence is ..." (9-10 tokens before the label), so classification gets 16; extractive
/// QA 16.
pub fn default_max_new_tokens(task: TaskName) -> usize {
    match task {
        TaskName::TextClassification => 16,
        TaskName::TextGeneration => 10,
        TaskName::Summarization => 15,
        _ => 16,
    }
}

/// Counts of one backend's generations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenerationStats {
    pub inputs: u64,
    /// Generations that ended at `max_new_tokens` without an end-of-turn token.
    pub hit_max_new_tokens: u64,
}

/// The zero-shot backend: a GGUF decoder answering a task through a prompt.
pub struct CausalLm {
    pub lm: GgufLm,
    pub options: CausalLmOptions,
    task: Option<TaskName>,
    labels: Vec<String>,
    choice_ids: Vec<Vec<u32>>,
    pub stats: GenerationStats,
}

impl CausalLm {
    pub fn load(path: &Path, options: CausalLmOptions) -> Result<CausalLm> {
        if options.max_new_tokens == Some(0) {
            bail!("option `max_new_tokens` must be at least 1");
        }
        Ok(CausalLm {
            lm: GgufLm::load_with(path, options.weights)?,
            options,
            task: None,
            labels: Vec::new(),
            choice_ids: Vec::new(),
            stats: GenerationStats::default(),
        })
    }

    fn generate_options(&self, task: TaskName) -> GenerateOptions {
        GenerateOptions {
            max_new_tokens: self
                .options
                .max_new_tokens
                .unwrap_or_else(|| default_max_new_tokens(task)),
            temperature: self.options.temperature,
            top_p: self.options.top_p,
            seed: self.options.seed,
            keep_first_logits: false,
        }
    }

    /// The rendered prompt and its ids for one input.
    pub fn prompt_ids(&self, task: TaskName, input: &Input) -> Result<(String, Vec<u32>)> {
        let prompt = build_prompt(task, &self.options.prompt, input, &self.labels)?;
        let text = self.lm.render(&prompt)?;
        let ids = self.lm.tokenizer.encode(&text)?;
        Ok((text, ids))
    }

    fn answer(&mut self, task: TaskName, input: &Input) -> Result<Prediction> {
        let (_, ids) = self.prompt_ids(task, input)?;
        self.stats.inputs += 1;
        match self.options.mode {
            ZeroShotMode::Generate => {
                let opts = self.generate_options(task);
                let g = self.lm.generate(&ids, &opts)?;
                if g.stop == StopReason::MaxNewTokens {
                    self.stats.hit_max_new_tokens += 1;
                }
                let text = self.lm.tokenizer.decode(g.content())?;
                Ok(Prediction {
                    output: parse_answer(task, &text, &self.labels),
                    input_tokens: ids.len() as u32,
                    output_tokens: g.tokens.len() as u32,
                    request: None,
                })
            }
            ZeroShotMode::LogLikelihood => {
                let scores = self.lm.score(&ids, &self.choice_ids)?;
                let best = scores
                    .iter()
                    .enumerate()
                    .fold(None::<(usize, f64)>, |b, (i, &s)| match b {
                        Some((_, bs)) if bs >= s => b,
                        _ => Some((i, s)),
                    })
                    .map(|(i, _)| i)
                    .ok_or_else(|| anyhow!("no choices to score"))?;
                Ok(Prediction {
                    output: Output::Label(self.labels[best].clone()),
                    input_tokens: ids.len() as u32,
                    output_tokens: 0,
                    request: None,
                })
            }
        }
    }
}

/// A stand-in input of `task` to check before any measured window that prompts build and
/// the template renders.
fn probe_input(task: TaskName) -> Input {
    match task {
        TaskName::ExtractiveQa => Input::QuestionContext {
            question: "Who wrote it".into(),
            context: "It was written by someone.".into(),
        },
        _ => Input::Text("A probe sentence.".into()),
    }
}

impl Backend for CausalLm {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            parameters: Some(self.lm.parameters),
            description: format!(
                "{}; zero-shot, prompt {:?}, mode {:?}",
                self.lm.description, self.options.prompt, self.options.mode
            ),
        }
    }

    fn prepare(&mut self, task: TaskName, labels: &[String]) -> Result<()> {
        if !CAUSAL_LM_TASKS.contains(&task) {
            let list: Vec<&str> = CAUSAL_LM_TASKS.iter().map(|t| t.as_str()).collect();
            bail!("the causal LM answers {}, not {task}", list.join(", "));
        }
        if task == TaskName::TextClassification && labels.is_empty() {
            bail!("zero-shot classification needs the dataset's label set, and it is empty");
        }
        self.task = Some(task);
        self.labels = labels.to_vec();
        if self.options.mode == ZeroShotMode::LogLikelihood {
            if task != TaskName::TextClassification {
                bail!("option `mode = \"log-likelihood\"` is for text-classification, not {task}");
            }
            self.choice_ids = choices(labels)
                .iter()
                .map(|c| self.lm.tokenizer.encode_continuation(c))
                .collect::<Result<_>>()?;
        }
        // Build and render one prompt now, so a prompt or template that cannot be made fails
        // before the measured window, naming the file.
        let (_, ids) = self
            .prompt_ids(task, &probe_input(task))
            .with_context(|| format!("{}: preparing the prompt", self.lm.path.display()))?;
        let extra = self.generate_options(task).max_new_tokens;
        self.lm.check_length(ids.len(), extra)?;
        Ok(())
    }

    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        let Some(task) = self.task else {
            bail!("the causal LM was not prepared (Backend::prepare) before predict");
        };
        batch
            .iter()
            .map(|ex| {
                self.answer(task, &ex.input)
                    .with_context(|| format!("example {}", ex.id))
            })
            .collect()
    }
}
