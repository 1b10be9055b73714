//! Zero-shot prompts for multi-purpose models and the rules that turn their answers back into
//! a task's output. The study's prompts are the defaults (`../shared/protocols.md`, "Power
//! Hungry Processing" scripts), the Zschache and Hartwig dspy-style chat prompt is offered for
//! classification into named categories, and a suite may give its own template.
//!
//! Two ways to answer, both described here and chosen by the suite:
//! - [`ZeroShotMode::Generate`]: generate, then parse the text ([`parse_answer`]); what the
//!   energy runs of both studies did. An answer that parses to nothing is
//!   [`Output::Unparsed`]: kept, counted, scored as wrong.
//! - [`ZeroShotMode::LogLikelihood`]: score each choice's continuation by its log-likelihood
//!   and take the best ([`choices`]); how the study computed its zero-shot accuracy (LM
//!   Evaluation Harness). Only backends that expose log-probabilities can do it.

use crate::{Input, Output, TaskName};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// How a zero-shot model answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZeroShotMode {
    /// Generate and parse the answer.
    #[default]
    Generate,
    /// Rank the task's choices by log-likelihood (classification only).
    LogLikelihood,
}

/// Which prompt a zero-shot model gets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptStyle {
    /// The study's plain prompt for the task ("what is the binary sentiment of ...").
    Study,
    /// Zschache and Hartwig's dspy-style chat prompt: classification into named categories.
    DspyChat,
    /// The suite's own template with `{text}`, `{question}`, `{context}`, `{categories}`.
    Template(String),
}

/// A prompt ready for a backend: an optional system message and the user text. Backends with
/// a chat template render both through it; plain completion backends get `system` + "\n\n" +
/// `user` ([`Prompt::as_completion`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prompt {
    pub system: Option<String>,
    pub user: String,
}

impl Prompt {
    /// The prompt as one completion string.
    pub fn as_completion(&self) -> String {
        match &self.system {
            Some(s) => format!("{s}\n\n{}", self.user),
            None => self.user.clone(),
        }
    }
}

/// The prompt for one input of `task`. `categories` is the dataset's label set (needed by the
/// chat prompt and the `{categories}` placeholder).
pub fn build_prompt(
    task: TaskName,
    style: &PromptStyle,
    input: &Input,
    categories: &[String],
) -> Result<Prompt> {
    match style {
        PromptStyle::Study => study_prompt(task, input),
        PromptStyle::DspyChat => {
            if task != TaskName::TextClassification {
                bail!("the dspy chat prompt is for text classification, not {task}");
            }
            let Some(text) = input.as_text() else {
                bail!("the dspy chat prompt needs a text input");
            };
            Ok(dspy_chat(text, categories))
        }
        PromptStyle::Template(t) => Ok(Prompt {
            system: None,
            user: fill_template(t, input, categories)?,
        }),
    }
}

/// The study's prompts, exactly as its scripts wrote them.
fn study_prompt(task: TaskName, input: &Input) -> Result<Prompt> {
    let user = match (task, input) {
        (TaskName::TextClassification, Input::Text(t)) => {
            format!("what is the binary sentiment of the following sentence? {t}")
        }
        (TaskName::Summarization, Input::Text(t)) => {
            format!("summarize the following text: {t}")
        }
        (TaskName::ExtractiveQa, Input::QuestionContext { question, context }) => format!(
            "{question}? Find the answer to the question in the following text: \"{context}\". Answer:"
        ),
        (TaskName::TextGeneration, Input::Text(t)) => t.clone(),
        _ => bail!(
            "the study has no zero-shot prompt for {task}; give the model a `prompt` template \
             in the suite"
        ),
    };
    Ok(Prompt { system: None, user })
}

/// Zschache and Hartwig's prompt through dspy (protocols.md): a system message naming the
/// input field `text` and the output field `category`, the marker structure, and the
/// objective listing the categories; the user message gives the text and asks for the
/// fields in order.
pub fn dspy_chat(text: &str, categories: &[String]) -> Prompt {
    let list: String = categories.iter().map(|c| format!(" - {c}")).collect();
    let system = format!(
        "Your input fields are:\n1. `text` (str)\n\nYour output fields are:\n1. `category` (str)\n\n\
         All interactions will be structured in the following way, with the appropriate values \
         filled in.\n\n[[ ## text ## ]]\n{{text}}\n\n[[ ## category ## ]]\n{{category}}\n\n\
         [[ ## completed ## ]]\n\nIn adhering to this structure, your objective is: \n        \
         Classify the text as one of the following categories:{list}"
    );
    let user = format!(
        "[[ ## text ## ]]\n{text}\n\nRespond with the corresponding output fields, starting with \
         the field [[ ## category ## ]], and then ending with the marker for [[ ## completed ## ]]."
    );
    Prompt {
        system: Some(system),
        user,
    }
}

/// Fill a suite's template. Placeholders: `{text}`, `{question}`, `{context}`,
/// `{categories}` (comma-separated); `{{` and `}}` are literal braces. An unknown placeholder,
/// or one the input does not have, is an error naming it.
pub fn fill_template(template: &str, input: &Input, categories: &[String]) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(tail.as_bytes()[0] as char);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            bail!("prompt template: unmatched `}}` (write `}}}}` for a literal brace)");
        }
        let Some(end) = tail.find('}') else {
            bail!("prompt template: unclosed `{{` (write `{{{{` for a literal brace)");
        };
        let name = &tail[1..end];
        let value = match (name, input) {
            ("text", _) => input.to_text("<mask>").ok_or_else(|| {
                anyhow::anyhow!("prompt template: `{{text}}` but the input has no text")
            })?,
            ("question", Input::QuestionContext { question, .. }) => question.clone(),
            ("context", Input::QuestionContext { context, .. }) => context.clone(),
            ("categories", _) => categories.join(", "),
            ("question" | "context", _) => {
                bail!("prompt template: `{{{name}}}` needs a question-answering input")
            }
            _ => bail!(
                "prompt template: unknown placeholder `{{{name}}}`; expected text, question, \
                 context or categories"
            ),
        };
        out.push_str(&value);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Turn a generated answer into the task's output. The rules, in order:
/// - classification: the text after a `[[ ## category ## ]]` marker if there is one (up to
///   the next marker), else the whole answer; its first non-empty line, trimmed of spaces,
///   quotes and final punctuation, compared case-insensitively with each category: an exact
///   match wins; otherwise the one category that occurs in the line as a whole word; none or
///   several -> unparsed.
/// - extractive QA: the first non-empty line, trimmed; empty -> unparsed.
/// - summarization, text generation: the whole answer, trimmed; empty -> unparsed.
pub fn parse_answer(task: TaskName, generated: &str, categories: &[String]) -> Output {
    let unparsed = || Output::Unparsed(generated.to_string());
    match task {
        TaskName::TextClassification => {
            let section = marker_section(generated, "category").unwrap_or(generated);
            let Some(line) = first_line(section) else {
                return unparsed();
            };
            let clean = line
                .trim_matches(|c: char| c.is_whitespace() || "\"'`*.,;:!".contains(c))
                .to_lowercase();
            if let Some(c) = categories.iter().find(|c| c.to_lowercase() == clean) {
                return Output::Label(c.clone());
            }
            let words: Vec<&str> = clean
                .split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
                .filter(|w| !w.is_empty())
                .collect();
            let found: Vec<&String> = categories
                .iter()
                .filter(|c| {
                    let c = c.to_lowercase();
                    let parts: Vec<&str> = c.split_whitespace().collect();
                    words
                        .windows(parts.len().max(1))
                        .any(|w| w == parts.as_slice())
                })
                .collect();
            match found.as_slice() {
                [one] => Output::Label((*one).clone()),
                _ => unparsed(),
            }
        }
        TaskName::ExtractiveQa => match first_line(generated) {
            Some(l) => Output::Answer {
                text: l.to_string(),
                start: None,
                end: None,
            },
            None => unparsed(),
        },
        TaskName::Summarization | TaskName::TextGeneration => {
            let t = generated.trim();
            if t.is_empty() {
                unparsed()
            } else {
                Output::Text(t.to_string())
            }
        }
        _ => unparsed(),
    }
}

/// The continuations ranked in log-likelihood mode: one per category, after a space (as the
/// LM Evaluation Harness scores ` positive` after the prompt).
pub fn choices(categories: &[String]) -> Vec<String> {
    categories.iter().map(|c| format!(" {c}")).collect()
}

/// The text of a dspy output field: after `[[ ## name ## ]]`, up to the next `[[ ##` marker.
fn marker_section<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("[[ ## {name} ## ]]");
    let start = text.find(&marker)? + marker.len();
    let rest = &text[start..];
    Some(rest.find("[[ ##").map_or(rest, |end| &rest[..end]))
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_studys_prompts_are_its_scripts_strings() {
        let p = build_prompt(
            TaskName::TextClassification,
            &PromptStyle::Study,
            &Input::Text("a fine film".into()),
            &[],
        )
        .expect("prompt");
        assert_eq!(
            p.user,
            "what is the binary sentiment of the following sentence? a fine film"
        );
        let qa = Input::QuestionContext {
            question: "Who wrote it".into(),
            context: "Ann wrote it.".into(),
        };
        let p = build_prompt(TaskName::ExtractiveQa, &PromptStyle::Study, &qa, &[]).expect("qa");
        assert_eq!(
            p.user,
            "Who wrote it? Find the answer to the question in the following text: \"Ann wrote it.\". Answer:"
        );
        let e = build_prompt(
            TaskName::ObjectDetection,
            &PromptStyle::Study,
            &Input::Image("x.jpg".into()),
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("object-detection"));
    }

    #[test]
    fn the_dspy_prompt_lists_the_categories_and_the_markers() {
        let p = dspy_chat("stocks fell", &cats(&["World", "Business"]));
        let system = p.system.expect("system message");
        assert!(
            system.ends_with("categories: - World - Business"),
            "{system}"
        );
        assert!(
            system.contains("[[ ## category ## ]]") && system.contains("[[ ## completed ## ]]")
        );
        assert!(p
            .user
            .starts_with("[[ ## text ## ]]\nstocks fell\n\nRespond"));
    }

    #[test]
    fn templates_fill_known_placeholders_and_refuse_others() {
        let t = fill_template(
            "Q: {question} C: {context} {{literal}} [{categories}]",
            &Input::QuestionContext {
                question: "q".into(),
                context: "c".into(),
            },
            &cats(&["a", "b"]),
        )
        .expect("fills");
        assert_eq!(t, "Q: q C: c {literal} [a, b]");
        let text = Input::Text("t".into());
        assert!(fill_template("{nope}", &text, &[])
            .unwrap_err()
            .to_string()
            .contains("unknown placeholder `{nope}`"));
        assert!(fill_template("{question}", &text, &[]).is_err());
        assert!(fill_template("{text", &text, &[]).is_err());
        assert!(fill_template("text}", &text, &[]).is_err());
    }

    #[test]
    fn classification_answers_parse_by_the_documented_rules() {
        let c = cats(&["positive", "negative"]);
        let label = |s: &str| parse_answer(TaskName::TextClassification, s, &c);
        assert_eq!(label(" Positive."), Output::Label("positive".into()));
        assert_eq!(
            label("The sentiment is negative, clearly"),
            Output::Label("negative".into())
        );
        assert_eq!(
            label("[[ ## category ## ]]\nnegative\n\n[[ ## completed ## ]]"),
            Output::Label("negative".into())
        );
        // Both, neither, or empty: unparsed, keeping the raw text.
        assert!(matches!(label("positive or negative"), Output::Unparsed(_)));
        assert!(matches!(label("I cannot tell"), Output::Unparsed(_)));
        assert_eq!(label("  \n "), Output::Unparsed("  \n ".into()));
        // "non-negative" is one word here, not the category "negative".
        assert!(matches!(label("non-negative"), Output::Unparsed(_)));
        // Multi-word categories match as a phrase.
        let c2 = cats(&["Sci/Tech", "World news"]);
        assert_eq!(
            parse_answer(TaskName::TextClassification, "it is world news", &c2),
            Output::Label("World news".into())
        );
    }

    #[test]
    fn generative_answers_keep_text_and_mark_empty_ones() {
        assert_eq!(
            parse_answer(TaskName::ExtractiveQa, "\n Ann \nmore", &[]),
            Output::Answer {
                text: "Ann".into(),
                start: None,
                end: None
            }
        );
        assert!(matches!(
            parse_answer(TaskName::Summarization, "   ", &[]),
            Output::Unparsed(_)
        ));
        assert_eq!(choices(&cats(&["pos"])), vec![" pos".to_string()]);
    }
}
