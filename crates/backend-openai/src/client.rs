//! One request to an OpenAI-compatible server, timed: `/chat/completions` or `/completions`,
//! streamed (server-sent events) or not. A request never fails the batch: whatever goes wrong
//! (a refused connection, an HTTP error, a stalled, dropped, malformed or endless stream) comes
//! back as an [`Answer`] whose `stats.error` says what, so the run goes on and the failure is
//! counted. 429 and 503 are retried after the server's `Retry-After`.

use crate::config::{Api, Config};
use crate::sse::{self, Event};
use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::prompts::Prompt;
use powerhungry_tasks::RequestStats;
use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest non-streamed body read (a one-answer response is a few KiB).
const MAX_BODY: usize = 16 << 20;
/// Streamed content chunks accepted beyond `max_tokens` (a role chunk, a final empty one)
/// before a stream counts as endless.
const CHUNK_SLACK: u32 = 8;
/// Longest wait a `Retry-After` may ask for.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// `(prompt_tokens, completion_tokens)` as the server's `usage` gives them.
type Usage = (u32, u32);

/// What came back for one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The generated text (empty when the request failed).
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub stats: RequestStats,
}

/// A client for one served model; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    cfg: Arc<Config>,
    /// `Bearer <key>`, marked sensitive so that no Debug output shows it.
    auth: Option<HeaderValue>,
}

/// How one attempt ended when it did not answer.
enum Failure {
    /// The server asked to be asked again after this long.
    Retry(Duration, String),
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Fatal(e)
    }
}

/// What one successful attempt read.
#[derive(Default)]
struct Reading {
    text: String,
    usage: Option<Usage>,
    ttft_s: Option<f64>,
    inter_token_s: Vec<f64>,
    chunks: u32,
}

impl Client {
    /// Build the client, reading the API key from the variable the suite names (an error names
    /// the variable, never the key).
    pub fn new(cfg: Config) -> Result<Client> {
        let auth = match cfg.api_key()? {
            Some(key) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    anyhow!(
                        "the API key in {} is not a valid header value",
                        cfg.api_key_env.as_deref().unwrap_or("?")
                    )
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            // A benchmark talks to the server itself, never through a proxy.
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(cfg.concurrency)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| anyhow!("cannot build the HTTP client: {e}"))?;
        Ok(Client {
            http,
            cfg: Arc::new(cfg),
            auth,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// GET `path` under the base URL, with the key; the body as JSON.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.cfg.base_url);
        let mut req = self.http.get(&url).timeout(self.cfg.timeout);
        if let Some(a) = &self.auth {
            req = req.header(AUTHORIZATION, a.clone());
        }
        let resp = req.send().await.map_err(|e| {
            anyhow!(
                "cannot reach {url}: {} (is the server up, and is `base_url` right?)",
                chain(&e)
            )
        })?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| anyhow!("{url}: reading the answer: {}", chain(&e)))?;
        if !status.is_success() {
            bail!(
                "{url} answered HTTP {}: {}",
                status.as_u16(),
                excerpt(&body)
            );
        }
        serde_json::from_str(&body).map_err(|e| {
            anyhow!(
                "{url} answered with something that is not JSON ({e}): {}",
                excerpt(&body)
            )
        })
    }

    /// Send one prompt and time it; never an `Err`: failures are in `stats.error`.
    pub async fn complete(&self, prompt: &Prompt, max_tokens: u32) -> Answer {
        let t0 = Instant::now();
        let body = self.body(prompt, max_tokens);
        let mut retries = 0;
        let mut wait = Duration::from_millis(500);
        let result = loop {
            let attempt =
                tokio::time::timeout(self.cfg.timeout, self.attempt(&body, t0, max_tokens));
            match attempt.await {
                Ok(Ok(r)) => break Ok(r),
                Ok(Err(Failure::Retry(after, _))) if retries < self.cfg.max_retries => {
                    retries += 1;
                    // No Retry-After: back off, doubling.
                    tokio::time::sleep(if after.is_zero() { wait } else { after }).await;
                    wait = (wait * 2).min(MAX_RETRY_WAIT);
                }
                Ok(Err(Failure::Retry(_, why))) => {
                    break Err(anyhow!("{why}; gave up after {retries} retries"))
                }
                Ok(Err(Failure::Fatal(e))) => break Err(e),
                Err(_) => {
                    break Err(anyhow!(
                        "no complete answer within the timeout of {:.1} s (a stalled or endless \
                         response)",
                        self.cfg.timeout.as_secs_f64()
                    ))
                }
            }
        };
        let e2e_s = t0.elapsed().as_secs_f64();
        match result {
            Ok(r) => {
                let (prompt_tokens, completion_tokens, tokens_from) = match r.usage {
                    Some((p, c)) => (p, c, "usage"),
                    None if self.cfg.stream => (0, r.chunks, "stream-chunks"),
                    None => (0, 0, "unknown"),
                };
                Answer {
                    text: r.text,
                    prompt_tokens,
                    completion_tokens,
                    stats: RequestStats {
                        e2e_s,
                        ttft_s: r.ttft_s,
                        inter_token_s: r.inter_token_s,
                        tokens_from: tokens_from.into(),
                        retries,
                        error: None,
                    },
                }
            }
            Err(e) => Answer {
                text: String::new(),
                prompt_tokens: 0,
                completion_tokens: 0,
                stats: RequestStats {
                    e2e_s,
                    ttft_s: None,
                    inter_token_s: Vec::new(),
                    tokens_from: "unknown".into(),
                    retries,
                    error: Some(format!("{e:#}")),
                },
            },
        }
    }

    /// The request body: greedy unless the suite says otherwise; usage asked for in streams.
    fn body(&self, prompt: &Prompt, max_tokens: u32) -> Vec<u8> {
        let c = &self.cfg;
        let mut b = json!({
            "model": c.model,
            "max_tokens": max_tokens,
            "temperature": c.temperature,
            "stream": c.stream,
        });
        match c.api {
            Api::Chat => {
                let mut messages = Vec::new();
                if let Some(s) = &prompt.system {
                    messages.push(json!({"role": "system", "content": s}));
                }
                messages.push(json!({"role": "user", "content": prompt.user}));
                b["messages"] = Value::Array(messages);
            }
            Api::Completions => b["prompt"] = Value::String(prompt.as_completion()),
        }
        if !c.stop.is_empty() {
            b["stop"] = json!(c.stop);
        }
        if c.stream {
            b["stream_options"] = json!({"include_usage": true});
        }
        serde_json::to_vec(&b).unwrap_or_default()
    }

    async fn attempt(&self, body: &[u8], t0: Instant, max_tokens: u32) -> Result<Reading, Failure> {
        let url = self.cfg.endpoint();
        let mut req = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(a) = &self.auth {
            req = req.header(AUTHORIZATION, a.clone());
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| anyhow!("cannot send to {url}: {}", chain(&e)))?;
        let status = resp.status();
        if status.as_u16() == 429 || status.as_u16() == 503 {
            let after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s).min(MAX_RETRY_WAIT))
                .unwrap_or(Duration::ZERO);
            return Err(Failure::Retry(after, format!("HTTP {}", status.as_u16())));
        }
        if !status.is_success() {
            let text = read_capped(&mut resp, 4096).await.unwrap_or_default();
            return Err(anyhow!("HTTP {}: {}", status.as_u16(), excerpt(&text)).into());
        }
        if self.cfg.stream {
            Ok(self.read_stream(resp, t0, max_tokens).await?)
        } else {
            let text = read_capped(&mut resp, MAX_BODY).await?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow!("the answer is not JSON ({e}): {}", excerpt(&text)))?;
            let (content, usage) = self.parse_whole(&v)?;
            Ok(Reading {
                text: content,
                usage,
                ..Reading::default()
            })
        }
    }

    async fn read_stream(
        &self,
        mut resp: reqwest::Response,
        t0: Instant,
        max_tokens: u32,
    ) -> Result<Reading> {
        let mut parser = sse::Parser::new();
        let mut r = Reading::default();
        let mut last: Option<Instant> = None;
        let mut finished = false;
        let mut done = false;
        while !done {
            let chunk = resp.chunk().await.map_err(|e| {
                anyhow!(
                    "the connection broke mid-stream after {} content chunks: {}",
                    r.chunks,
                    chain(&e)
                )
            })?;
            let events = match chunk {
                Some(bytes) => parser.feed(&bytes)?,
                None => {
                    done = true;
                    parser.finish()?
                }
            };
            for ev in events {
                let data = match ev {
                    Event::Done => {
                        done = true;
                        break;
                    }
                    Event::Data(d) => d,
                };
                let v: Value = serde_json::from_str(&data).map_err(|e| {
                    anyhow!(
                        "malformed stream: an event that is not JSON ({e}): {}",
                        excerpt(&data)
                    )
                })?;
                let (piece, usage, finish) = self.parse_chunk(&v)?;
                if usage.is_some() {
                    r.usage = usage;
                }
                finished |= finish;
                if !piece.is_empty() {
                    let now = Instant::now();
                    match last {
                        None => r.ttft_s = Some(now.duration_since(t0).as_secs_f64()),
                        Some(prev) => r.inter_token_s.push(now.duration_since(prev).as_secs_f64()),
                    }
                    last = Some(now);
                    r.chunks += 1;
                    r.text.push_str(&piece);
                    if r.chunks > max_tokens + CHUNK_SLACK {
                        bail!(
                            "endless stream: more than {} content chunks for max_tokens = \
                             {max_tokens}; stopped reading",
                            max_tokens + CHUNK_SLACK
                        );
                    }
                }
            }
        }
        // A body cut short has neither a finish_reason nor usage (a clean `[DONE]` after
        // them is not required: some servers close right after the last chunk).
        if !finished && r.usage.is_none() {
            bail!(
                "the stream ended without a finish_reason or usage after {} content chunks \
                 (connection dropped mid-stream?)",
                r.chunks
            );
        }
        Ok(r)
    }

    /// One streamed chunk: the text it adds, its usage (if any), whether it finishes.
    fn parse_chunk(&self, v: &Value) -> Result<(String, Option<Usage>, bool)> {
        if let Some(e) = v.get("error") {
            bail!(
                "the server sent an error in the stream: {}",
                excerpt(&e.to_string())
            );
        }
        let usage = parse_usage(v);
        let Some(choices) = v.get("choices").and_then(Value::as_array) else {
            bail!(
                "malformed stream: a chunk without `choices` (not the OpenAI dialect?): {}",
                excerpt(&v.to_string())
            );
        };
        let Some(first) = choices.first() else {
            // The usage chunk of `include_usage` has an empty `choices`.
            return Ok((String::new(), usage, false));
        };
        let piece = match self.cfg.api {
            Api::Chat => first.pointer("/delta/content"),
            Api::Completions => first.get("text"),
        };
        let piece = piece
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let finish = first.get("finish_reason").is_some_and(|f| !f.is_null());
        Ok((piece, usage, finish))
    }

    /// A whole (non-streamed) answer: its text and usage.
    fn parse_whole(&self, v: &Value) -> Result<(String, Option<Usage>)> {
        if let Some(e) = v.get("error") {
            bail!("the server answered an error: {}", excerpt(&e.to_string()));
        }
        let first = v
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        let text = match (self.cfg.api, first) {
            (Api::Chat, Some(c)) => c.pointer("/message/content"),
            (Api::Completions, Some(c)) => c.get("text"),
            (_, None) => None,
        };
        let Some(text) = text.and_then(Value::as_str) else {
            bail!(
                "the answer has no {} (not the OpenAI dialect?): {}",
                match self.cfg.api {
                    Api::Chat => "`choices[0].message.content`",
                    Api::Completions => "`choices[0].text`",
                },
                excerpt(&v.to_string())
            );
        };
        Ok((text.to_string(), parse_usage(v)))
    }
}

/// `usage.prompt_tokens` and `usage.completion_tokens`, when both are there.
fn parse_usage(v: &Value) -> Option<Usage> {
    let u = v.get("usage")?;
    let p = u.get("prompt_tokens")?.as_u64()?;
    let c = u.get("completion_tokens")?.as_u64()?;
    Some((p.min(u32::MAX as u64) as u32, c.min(u32::MAX as u64) as u32))
}

/// Read a body up to `cap` bytes (more is an error: a hostile server cannot fill memory).
async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<String> {
    let mut buf = Vec::new();
    while let Some(c) = resp.chunk().await.map_err(|e| {
        anyhow!(
            "the connection broke while reading the answer: {}",
            chain(&e)
        )
    })? {
        if buf.len() + c.len() > cap {
            bail!("the answer is longer than {cap} bytes");
        }
        buf.extend_from_slice(&c);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The first 200 characters of a text, for errors.
pub(crate) fn excerpt(s: &str) -> String {
    let t: String = s.trim().chars().take(200).collect();
    if t.len() < s.trim().len() {
        format!("{t}...")
    } else {
        t
    }
}

/// An error with its causes ("error sending request" alone says little).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
