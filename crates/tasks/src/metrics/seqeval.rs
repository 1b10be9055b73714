//! Token classification: entity-level precision, recall and F1 as `seqeval` 1.2.2 computes
//! them in its default mode (`precision_score`/`recall_score`/`f1_score` with `mode=None`,
//! conlleval-compatible chunking, `average="micro"`, `zero_division="warn"`, i.e. 0/0 is 0).
//!
//! - [`get_entities`] is seqeval's `get_entities` (with its `end_of_chunk`/`start_of_chunk`
//!   rules): a tag's first character is its prefix, the rest after the first `-` its type. An
//!   `I-` after `O` or after another type starts a chunk; a type change ends one. Several
//!   sentences are scored together as seqeval does it, joined with an `O` between them, so an
//!   entity never spans two sentences.
//! - An entity is correct when its type, first and last token equal a gold entity's; micro
//!   precision = correct / predicted, recall = correct / gold, F1 = 2PR/(P+R), each 0 when its
//!   denominator is 0 (no predicted entities: precision 0; no gold entities: recall 0).
//! - [`iob1_to_iob2`] converts CoNLL-2003's IOB1 (`I-` opens an entity unless it continues one
//!   of the same type; `B-` only between two adjacent entities of one type) to IOB2. Seqeval's
//!   default mode reads IOB1 and its IOB2 conversion into the same entities (tested).
//! - [`entities_to_tags`] turns a backend's character-offset entities into IOB2 tags.
//!
//! Deviation: an empty tag (on which seqeval raises `IndexError`) is read as `O`.
//!
//! Reference: `testdata/metrics/make_text_references.py` runs seqeval 1.2.2 on the same tags.

use super::shape;
use crate::{Entity, Example, Gold, Input, Output, TaskName};
use anyhow::{bail, Result};
use std::collections::BTreeSet;

/// A tag's prefix character and type as seqeval splits it (`chunk[0]`,
/// `chunk[1:].split('-', 1)[-1] or '_'`).
fn split_tag(tag: &str) -> (char, &str) {
    let mut chars = tag.chars();
    let Some(prefix) = chars.next() else {
        return ('O', "_");
    };
    let rest = chars.as_str();
    let ty = match rest.split_once('-') {
        Some((_, after)) => after,
        None => rest,
    };
    (prefix, if ty.is_empty() { "_" } else { ty })
}

fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, ty: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != ty)
}

fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, ty: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != ty)
}

/// Seqeval's `get_entities` over sentences: `(type, first, last)` with token positions in
/// the sentences joined by one `O` each (first and last inclusive).
pub fn get_entities<S: AsRef<str>>(sentences: &[Vec<S>]) -> Vec<(String, usize, usize)> {
    let flat = sentences
        .iter()
        .flat_map(|s| s.iter().map(AsRef::as_ref).chain(std::iter::once("O")));
    let mut chunks = Vec::new();
    let (mut prev_tag, mut prev_type) = ('O', String::new());
    let mut begin = 0usize;
    for (i, chunk) in flat.chain(std::iter::once("O")).enumerate() {
        let (tag, ty) = split_tag(chunk);
        if end_of_chunk(prev_tag, tag, &prev_type, ty) {
            // Never at i = 0: every end rule needs a previous tag other than the initial 'O'.
            chunks.push((prev_type.clone(), begin, i.saturating_sub(1)));
        }
        if start_of_chunk(prev_tag, tag, &prev_type, ty) {
            begin = i;
        }
        prev_tag = tag;
        prev_type = ty.to_string();
    }
    chunks
}

/// Entity-level micro scores of a set of sentences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntityScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold entities.
    pub gold: usize,
    /// Predicted entities.
    pub predicted: usize,
    /// Predicted entities equal to a gold one.
    pub correct: usize,
}

/// Seqeval's default-mode micro precision, recall and F1 of `pred` against `gold`, one tag
/// list per sentence. An error when the sentence counts or a sentence's lengths differ (as
/// seqeval raises).
pub fn seqeval_scores<S: AsRef<str>, T: AsRef<str>>(
    gold: &[Vec<S>],
    pred: &[Vec<T>],
) -> Result<EntityScores> {
    if gold.len() != pred.len() {
        bail!(
            "cannot score {} predicted sentences against {} gold sentences",
            pred.len(),
            gold.len()
        );
    }
    for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
        if g.len() != p.len() {
            bail!(
                "sentence {i}: {} predicted tags for {} gold tags",
                p.len(),
                g.len()
            );
        }
    }
    let true_set: BTreeSet<_> = get_entities(gold).into_iter().collect();
    let pred_set: BTreeSet<_> = get_entities(pred).into_iter().collect();
    let correct = true_set.intersection(&pred_set).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(correct, pred_set.len());
    let recall = ratio(correct, true_set.len());
    let denom = precision + recall;
    let f1 = if denom == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / denom
    };
    Ok(EntityScores {
        precision,
        recall,
        f1,
        gold: true_set.len(),
        predicted: pred_set.len(),
        correct,
    })
}

/// The type of an `I-`/`B-` tag (`None` for anything else).
fn iob_type(tag: &str) -> Option<&str> {
    tag.strip_prefix("I-").or_else(|| tag.strip_prefix("B-"))
}

/// IOB1 tags of one sentence as IOB2: an `I-X` that does not continue an entity of type `X`
/// (first token, after `O`, after another type) becomes `B-X`; everything else is kept.
pub fn iob1_to_iob2<S: AsRef<str>>(tags: &[S]) -> Vec<String> {
    let mut out = Vec::with_capacity(tags.len());
    let mut prev: Option<&str> = None;
    for tag in tags {
        let tag = tag.as_ref();
        match tag.strip_prefix("I-") {
            Some(ty) if prev.and_then(iob_type) != Some(ty) => out.push(format!("B-{ty}")),
            _ => out.push(tag.to_string()),
        }
        prev = Some(tag);
    }
    out
}

/// IOB2 tags for `tokens` from entities with character offsets (Unicode scalar values, end
/// exclusive) into the tokens joined by single spaces, as the pipeline saw them.
///
/// Rule: an entity covers every token whose character span overlaps its own
/// (`entity.start < token_end && token_start < entity.end`), so an entity that starts or ends
/// inside a word (a word piece) takes the whole word. The first covered token gets `B-label`,
/// the others `I-label`. Entities are taken in order of their start; a token already covered
/// by an earlier entity keeps it. Empty or out-of-range entities cover nothing.
pub fn entities_to_tags<S: AsRef<str>>(tokens: &[S], entities: &[Entity]) -> Vec<String> {
    let mut spans = Vec::with_capacity(tokens.len());
    let mut pos = 0usize;
    for t in tokens {
        let len = t.as_ref().chars().count();
        spans.push((pos, pos + len));
        pos += len + 1;
    }
    let mut tags: Vec<Option<String>> = vec![None; tokens.len()];
    let mut order: Vec<&Entity> = entities.iter().collect();
    order.sort_by_key(|e| (e.start, e.end));
    for e in order {
        let mut first = true;
        for (i, &(s, end)) in spans.iter().enumerate() {
            if e.start < end && s < e.end && tags[i].is_none() {
                let prefix = if first { "B" } else { "I" };
                tags[i] = Some(format!("{prefix}-{}", e.label));
                first = false;
            }
        }
    }
    tags.into_iter()
        .map(|t| t.unwrap_or_else(|| "O".to_string()))
        .collect()
}

/// The token-classification arm of [`super::score_task`]: `entity_precision`,
/// `entity_recall`, `entity_f1` over all sentences together. Predicted entities become tags by
/// [`entities_to_tags`]; an unparsed answer predicts no entity. Empty when an example has no
/// gold; an error naming the example for an input that is not tokens, a gold that is not tags
/// or not one per token, or an output that is not entities.
pub(super) fn score_entities(
    task: TaskName,
    pairs: &[(&Example, &Output)],
) -> Result<Vec<(String, f64)>> {
    let mut gold = Vec::with_capacity(pairs.len());
    let mut pred = Vec::with_capacity(pairs.len());
    for (e, o) in pairs {
        let tags = match &e.gold {
            None => return Ok(Vec::new()),
            Some(Gold::Tags(t)) => t,
            Some(_) => bail!(
                "example {}: the gold of a {task} example is not a list of tags",
                e.id
            ),
        };
        let Input::Tokens(tokens) = &e.input else {
            bail!(
                "example {}: a {task} example's input is not a list of tokens",
                e.id
            );
        };
        if tags.len() != tokens.len() {
            bail!(
                "example {}: {} gold tags for {} tokens",
                e.id,
                tags.len(),
                tokens.len()
            );
        }
        let predicted = match o {
            Output::Entities(ents) => entities_to_tags(tokens, ents),
            Output::Unparsed(_) => vec!["O".to_string(); tokens.len()],
            other => bail!(
                "example {}: a {task} backend answered {}, not entities",
                e.id,
                shape(other)
            ),
        };
        gold.push(tags.clone());
        pred.push(predicted);
    }
    let s = seqeval_scores(&gold, &pred)?;
    Ok(vec![
        ("entity_precision".into(), s.precision),
        ("entity_recall".into(), s.recall),
        ("entity_f1".into(), s.f1),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn chunking_follows_seqeval() {
        let e = get_entities(&[v("B-PER I-PER O B-LOC")]);
        assert_eq!(e, vec![("PER".into(), 0, 1), ("LOC".into(), 3, 3)]);
        // I- after O starts a chunk; a type change mid-chunk splits it.
        let e = get_entities(&[v("O I-ORG I-ORG I-LOC")]);
        assert_eq!(e, vec![("ORG".into(), 1, 2), ("LOC".into(), 3, 3)]);
        // Never across sentences: positions count the joining O.
        let e = get_entities(&[v("O B-PER"), v("I-PER O")]);
        assert_eq!(e, vec![("PER".into(), 1, 1), ("PER".into(), 3, 3)]);
        assert!(get_entities::<&str>(&[]).is_empty());
        assert_eq!(get_entities(&[vec![""]]), vec![]);
    }

    #[test]
    fn scores_and_zero_division() {
        let s = seqeval_scores(&[v("B-PER I-PER O")], &[v("O O O")]).expect("ok");
        assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0));
        let s = seqeval_scores(&[v("O O")], &[v("O O")]).expect("ok");
        assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0));
        let s = seqeval_scores(&[v("B-PER O B-LOC")], &[v("B-PER O B-ORG")]).expect("ok");
        assert_eq!((s.precision, s.recall, s.f1), (0.5, 0.5, 0.5));
        assert!(seqeval_scores(&[v("O")], &[v("O O")]).is_err());
        assert!(seqeval_scores(&[v("O")], &Vec::<Vec<&str>>::new()).is_err());
    }

    #[test]
    fn iob1_conversion() {
        assert_eq!(
            iob1_to_iob2(&v("I-PER I-PER B-PER O I-LOC I-ORG I-ORG")),
            v("B-PER I-PER B-PER O B-LOC B-ORG I-ORG")
        );
    }

    #[test]
    fn entities_become_tags() {
        let tokens = v("EU rejects German call");
        let ents = [
            Entity {
                label: "ORG".into(),
                start: 0,
                end: 2,
            },
            // "Germ" of "German": a word piece takes the whole word.
            Entity {
                label: "MISC".into(),
                start: 11,
                end: 15,
            },
            Entity {
                label: "X".into(),
                start: 100,
                end: 101,
            },
        ];
        assert_eq!(entities_to_tags(&tokens, &ents), v("B-ORG O B-MISC O"));
        let two = [Entity {
            label: "PER".into(),
            start: 3,
            end: 17,
        }];
        assert_eq!(entities_to_tags(&tokens, &two), v("O B-PER I-PER O"));
    }
}
