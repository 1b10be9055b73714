//! Chat templates rendered with minijinja, as transformers' `apply_chat_template` renders them
//! with jinja2: `trim_blocks` and `lstrip_blocks` on, loop controls, `tojson`,
//! `raise_exception(msg)`, Python string methods (`.strip()`, `.startswith()`...) through
//! minijinja-contrib's pycompat, and the variables `messages`, `add_generation_prompt`,
//! `bos_token`, `eos_token`.

use anyhow::{anyhow, Result};
use powerhungry_tasks::prompts::Prompt;
use serde::Serialize;

/// A compiled chat template, with where it came from for the errors.
pub struct ChatTemplate {
    env: minijinja::Environment<'static>,
    /// Where the template was read (e.g. "model.gguf: tokenizer.chat_template").
    pub source: String,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source", &self.source)
            .finish()
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Message {
        Message {
            role: role.to_string(),
            content: content.to_string(),
        }
    }
}

/// The messages of a prompt: its system message if any, then the user message.
pub fn messages(prompt: &Prompt) -> Vec<Message> {
    let mut m = Vec::with_capacity(2);
    if let Some(s) = &prompt.system {
        m.push(Message::new("system", s));
    }
    m.push(Message::new("user", &prompt.user));
    m
}

impl ChatTemplate {
    /// Compile `template`; `source` names it in errors.
    pub fn new(template: &str, source: &str, bos_token: &str, eos_token: &str) -> Result<Self> {
        let mut env = minijinja::Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("the template raised: {msg}"),
                ))
            },
        );
        env.add_template_owned("chat", template.to_string())
            .map_err(|e| anyhow!("{source}: the chat template does not compile: {e:#}"))?;
        Ok(ChatTemplate {
            env,
            source: source.to_string(),
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
        })
    }

    /// Render `messages`, with `add_generation_prompt` (the assistant's turn opened).
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String> {
        let tmpl = self
            .env
            .get_template("chat")
            .map_err(|e| anyhow!("{}: {e:#}", self.source))?;
        tmpl.render(minijinja::context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        })
        .map_err(|e| anyhow!("{}: the chat template failed to render: {e:#}", self.source))
    }
}
