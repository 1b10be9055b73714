//! A served model's options, as a suite gives them (`[models.options]` of a model with
//! `backend = "openai"`): where the server is, which API, how requests are sent. Every error
//! names the option.

use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::prompts::PromptStyle;
use powerhungry_tasks::TaskName;
use serde::Deserialize;
use std::time::Duration;

/// Which endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// `POST {base_url}/chat/completions` with system and user messages.
    #[default]
    Chat,
    /// `POST {base_url}/completions` with the prompt as one string.
    Completions,
}

/// The options as written (checked by [`Config::from_options`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    base_url: String,
    #[serde(default)]
    api: Api,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    api_key_env: Option<String>,
    #[serde(default)]
    concurrency: Option<i64>,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default)]
    max_tokens: Option<i64>,
    #[serde(default)]
    stop: Option<Vec<String>>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    prompt: Option<PromptStyle>,
    #[serde(default)]
    max_retries: Option<i64>,
    #[serde(default)]
    request_rate: Option<f64>,
    #[serde(default)]
    arrival_seed: Option<i64>,
}

/// A checked configuration. The API key is never held here: only the variable's name; the
/// key is read from the environment when the client is built and kept in its header only.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The API root, up to and including `/v1` (as the `openai` package's `base_url`).
    pub base_url: String,
    /// The served model's name, as `/v1/models` lists it.
    pub model: String,
    pub api: Api,
    /// Server-sent events (time to first token and inter-token latencies need them).
    pub stream: bool,
    /// Environment variable holding the API key (sent as `Authorization: Bearer`).
    pub api_key_env: Option<String>,
    /// Requests in flight at once within each batch the runner hands over (1: sequential).
    pub concurrency: usize,
    /// Limit on one request, from sending to its last byte (a stalled or endless stream ends
    /// here as an error).
    pub timeout: Duration,
    /// None: the task's default ([`default_max_tokens`]).
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    /// 0: greedy (the default, as the studies).
    pub temperature: f64,
    pub prompt: PromptStyle,
    /// Retries of a request the server asked to retry (429 or 503 with `Retry-After`).
    pub max_retries: u32,
    /// Requests per second with Poisson arrivals (None: each request as soon as a slot of
    /// `concurrency` is free); at most `concurrency` are in flight either way.
    pub request_rate: Option<f64>,
    /// Seed of the arrival schedule (the same seed, the same schedule).
    pub arrival_seed: u64,
}

impl Config {
    /// Check a suite model's options; `model` is the suite's `model` (the served name).
    pub fn from_options(model: Option<&str>, options: &toml::Table) -> Result<Config> {
        let raw: RawOptions = serde_path_to_error::deserialize(toml::Value::Table(options.clone()))
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path == "." || path.is_empty() {
                    anyhow!("openai options: {}", inner.message())
                } else {
                    anyhow!("openai option `{path}`: {}", inner.message())
                }
            })?;
        let Some(model) = model.filter(|m| !m.trim().is_empty()) else {
            bail!("an openai model needs `model`: the served model's name, as /v1/models lists it");
        };
        let base_url = raw.base_url.trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!(
                "openai option `base_url` = \"{}\": expected an http:// or https:// URL such as \
                 \"http://127.0.0.1:8080/v1\"",
                raw.base_url
            );
        }
        let concurrency = match raw.concurrency {
            None => 1,
            Some(n) if (1..=4096).contains(&n) => n as usize,
            Some(n) => bail!("openai option `concurrency` = {n}: expected 1 to 4096"),
        };
        let timeout = match raw.timeout {
            None => Duration::from_secs(120),
            Some(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Duration::from_secs_f64(t),
            Some(t) => bail!("openai option `timeout` = {t}: expected seconds, more than 0"),
        };
        let max_tokens = match raw.max_tokens {
            None => None,
            Some(n) if (1..=1_000_000).contains(&n) => Some(n as u32),
            Some(n) => bail!("openai option `max_tokens` = {n}: expected at least 1"),
        };
        let temperature = match raw.temperature {
            None => 0.0,
            Some(t) if t.is_finite() && (0.0..=2.0).contains(&t) => t,
            Some(t) => bail!("openai option `temperature` = {t}: expected 0 to 2 (0: greedy)"),
        };
        let max_retries = match raw.max_retries {
            None => 3,
            Some(n) if (0..=100).contains(&n) => n as u32,
            Some(n) => bail!("openai option `max_retries` = {n}: expected 0 to 100"),
        };
        let request_rate = match raw.request_rate {
            None => None,
            Some(r) if r.is_finite() && r > 0.0 && r <= 1e6 => Some(r),
            Some(r) => bail!(
                "openai option `request_rate` = {r}: expected requests per second, more than 0"
            ),
        };
        let arrival_seed = match raw.arrival_seed {
            None => 0,
            Some(s) if s >= 0 => s as u64,
            Some(s) => bail!("openai option `arrival_seed` = {s}: expected 0 or more"),
        };
        if let Some(v) = &raw.api_key_env {
            if v.is_empty() || v.contains('=') || v.contains('\0') {
                bail!("openai option `api_key_env` = \"{v}\": expected an environment variable's name");
            }
        }
        Ok(Config {
            base_url,
            model: model.to_string(),
            api: raw.api,
            stream: raw.stream.unwrap_or(true),
            api_key_env: raw.api_key_env,
            concurrency,
            timeout,
            max_tokens,
            stop: raw.stop.unwrap_or_default(),
            request_rate,
            arrival_seed,
            temperature,
            prompt: raw.prompt.unwrap_or(PromptStyle::Study),
            max_retries,
        })
    }

    /// The endpoint of the configured API.
    pub fn endpoint(&self) -> String {
        match self.api {
            Api::Chat => format!("{}/chat/completions", self.base_url),
            Api::Completions => format!("{}/completions", self.base_url),
        }
    }

    /// The API key from the environment: None when no variable is named; an error naming the
    /// variable (never its value) when it is named but not set.
    pub fn api_key(&self) -> Result<Option<String>> {
        let Some(var) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(k) if !k.is_empty() => Ok(Some(k)),
            Ok(_) => bail!("openai option `api_key_env`: the variable {var} is set but empty"),
            Err(_) => bail!(
                "openai option `api_key_env`: the variable {var} is not set (export the \
                 server's API key in it)"
            ),
        }
    }
}

/// Default generation limit per task, the candle causal-lm's (so the two backends answer the
/// same prompts with the same budget): classification 16 (a chat model opens with a phrase
/// before the label), generation 10 and summarization 15 (the study), otherwise 16.
pub fn default_max_tokens(task: TaskName) -> u32 {
    match task {
        TaskName::TextGeneration => 10,
        TaskName::Summarization => 15,
        _ => 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(s: &str) -> toml::Table {
        toml::from_str(s).expect("toml")
    }

    #[test]
    fn options_are_checked_naming_the_key() {
        let base = "base_url = \"http://127.0.0.1:1/v1\"\n";
        for (extra, want) in [
            ("concurrency = 0", "`concurrency` = 0"),
            ("timeout = -1.0", "`timeout`"),
            ("max_tokens = 0", "`max_tokens` = 0"),
            ("temperature = 3.0", "`temperature` = 3"),
            ("api = \"responses\"", "`api`"),
            ("api_key_env = \"\"", "`api_key_env`"),
            ("stram = true", "stram"),
        ] {
            let e =
                Config::from_options(Some("m"), &opts(&format!("{base}{extra}"))).expect_err(extra);
            assert!(format!("{e:#}").contains(want), "{extra}: {e:#}");
        }
        let e =
            Config::from_options(Some("m"), &opts("base_url = \"localhost:8080\"")).unwrap_err();
        assert!(e.to_string().contains("`base_url`"), "{e}");
        let e = Config::from_options(None, &opts(base)).unwrap_err();
        assert!(e.to_string().contains("needs `model`"), "{e}");
        let c = Config::from_options(
            Some("smol"),
            &opts(&format!("{base}api = \"completions\"\nstream = false\nconcurrency = 4\nstop = [\"\\n\"]\nprompt = \"dspy-chat\"")),
        )
        .expect("valid");
        assert_eq!(c.endpoint(), "http://127.0.0.1:1/v1/completions");
        assert_eq!((c.concurrency, c.stream, c.temperature), (4, false, 0.0));
        assert_eq!(c.prompt, PromptStyle::DspyChat);
        assert_eq!(c.stop, vec!["\n".to_string()]);
    }

    #[test]
    fn a_missing_key_variable_is_named_and_no_key_is_shown() {
        let c = Config::from_options(
            Some("m"),
            &opts("base_url = \"http://127.0.0.1:1/v1\"\napi_key_env = \"POWERHUNGRY_TEST_NO_SUCH_KEY\""),
        )
        .expect("valid");
        let e = c.api_key().unwrap_err().to_string();
        assert!(e.contains("POWERHUNGRY_TEST_NO_SUCH_KEY is not set"), "{e}");
    }
}
