//! The served model as a `Backend`: the task's inputs become prompts (the study's, the dspy
//! chat prompt, or the suite's template), the batch is sent under the configured load shape,
//! and each answer is parsed by the task's rules (`parse_answer`). A failed request is a
//! prediction too: `Unparsed`, scored as wrong, with its error in `request.error`.

use crate::client::{excerpt, Client};
use crate::config::{default_max_tokens, Config};
use crate::load;
use anyhow::{anyhow, bail, Context, Result};
use powerhungry_tasks::prompts::{build_prompt, parse_answer};
use powerhungry_tasks::{Backend, Example, ModelInfo, Output, Prediction, TaskName};

/// The tasks a served LLM answers by generating text.
pub const TASKS: &[TaskName] = &[
    TaskName::TextClassification,
    TaskName::ExtractiveQa,
    TaskName::Summarization,
    TaskName::TextGeneration,
];

pub struct OpenAiBackend {
    client: Client,
    runtime: tokio::runtime::Runtime,
    task: Option<TaskName>,
    labels: Vec<String>,
    max_tokens: u32,
}

/// A current-thread runtime: requests are I/O-bound, one thread keeps the client's CPU low.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP client's runtime")
}

/// Check, before anything is measured, that the server is there, speaks the OpenAI dialect,
/// serves the model and (if one is named) that the API key variable is set. Every error says
/// which of these failed.
pub fn preflight(cfg: &Config) -> Result<()> {
    let client = Client::new(cfg.clone())?;
    runtime()?.block_on(check_models(&client))
}

async fn check_models(client: &Client) -> Result<()> {
    let cfg = client.config();
    let v = client.get_json("/models").await.map_err(|e| {
        anyhow!(
            "{e:#}\n(an OpenAI-compatible server lists its models at `base_url`/models; \
             `base_url` usually ends in /v1, e.g. http://127.0.0.1:8080/v1)"
        )
    })?;
    let Some(data) = v.get("data").and_then(|d| d.as_array()) else {
        bail!(
            "{}/models answered, but not in the OpenAI dialect (expected {{\"data\": [{{\"id\": \
             ...}}]}}): {}",
            cfg.base_url,
            excerpt(&v.to_string())
        );
    };
    let ids: Vec<&str> = data
        .iter()
        .filter_map(|m| m.get("id").and_then(|i| i.as_str()))
        .collect();
    if !ids.contains(&cfg.model.as_str()) {
        bail!(
            "the server at {} does not serve model `{}`; it serves: {}",
            cfg.base_url,
            cfg.model,
            if ids.is_empty() {
                "nothing".to_string()
            } else {
                ids.join(", ")
            }
        );
    }
    Ok(())
}

impl OpenAiBackend {
    /// Connect: build the client and check the server (as [`preflight`]).
    pub fn connect(cfg: Config) -> Result<OpenAiBackend> {
        let client = Client::new(cfg)?;
        let runtime = runtime()?;
        runtime.block_on(check_models(&client))?;
        Ok(OpenAiBackend {
            client,
            runtime,
            task: None,
            labels: Vec::new(),
            max_tokens: 16,
        })
    }
}

impl Backend for OpenAiBackend {
    fn info(&self) -> ModelInfo {
        let c = self.client.config();
        ModelInfo {
            parameters: None,
            description: format!(
                "`{}` served at {} ({:?} API, {}, {} in flight{}, max_tokens {})",
                c.model,
                c.base_url,
                c.api,
                if c.stream { "streamed" } else { "not streamed" },
                c.concurrency,
                match c.request_rate {
                    Some(r) => format!(
                        ", Poisson arrivals at {r} requests/s (seed {})",
                        c.arrival_seed
                    ),
                    None => String::new(),
                },
                self.max_tokens
            ),
        }
    }

    fn prepare(&mut self, task: TaskName, labels: &[String]) -> Result<()> {
        if !TASKS.contains(&task) {
            bail!("a served LLM answers text classification, extractive QA, summarization and text generation, not {task}");
        }
        self.task = Some(task);
        self.labels = labels.to_vec();
        self.max_tokens = self
            .client
            .config()
            .max_tokens
            .unwrap_or_else(|| default_max_tokens(task));
        Ok(())
    }

    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        let Some(task) = self.task else {
            bail!("internal: predict before prepare");
        };
        let cfg = self.client.config();
        let prompts = batch
            .iter()
            .map(|e| {
                build_prompt(task, &cfg.prompt, &e.input, &self.labels)
                    .with_context(|| format!("example {}", e.id))
            })
            .collect::<Result<Vec<_>>>()?;
        let answers = self.runtime.block_on(load::run(
            &self.client,
            prompts,
            self.max_tokens,
            cfg.concurrency,
            cfg.request_rate.map(|r| (r, cfg.arrival_seed)),
        ))?;
        Ok(answers
            .into_iter()
            .map(|a| {
                let output = match &a.stats.error {
                    Some(e) => Output::Unparsed(format!("<request failed: {e}>")),
                    None => parse_answer(task, &a.text, &self.labels),
                };
                Prediction {
                    output,
                    input_tokens: a.prompt_tokens,
                    output_tokens: a.completion_tokens,
                    request: Some(a.stats),
                }
            })
            .collect())
    }
}
