//! CoNLL column files for token classification: one token per line, columns separated by
//! spaces (tabs when the first token line has one), a blank line between sentences and
//! `-DOCSTART-` lines between documents. Tags become IOB2 (CoNLL-2003's IOB1 is converted by
//! the metric crate's own `iob1_to_iob2`, so reading and scoring agree on the rule).

use super::decode::TextDecoder;
use super::spec::DatasetSpec;
use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::metrics::iob1_to_iob2;
use powerhungry_tasks::{Example, Gold, Input};
use std::path::Path;

/// `B-PER` -> (Some('B'), Some("PER")); `O` -> (None, None).
fn split_tag(tag: &str) -> (Option<char>, Option<&str>) {
    let mut chars = tag.chars();
    match (chars.next(), tag.get(1..2), tag.get(2..)) {
        (Some(p @ ('B' | 'I')), Some("-"), Some(kind)) if !kind.is_empty() => (Some(p), Some(kind)),
        _ => (None, None),
    }
}

fn check_tag(tag: &str) -> std::result::Result<(), String> {
    if tag == "O" || split_tag(tag).0.is_some() {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} is not an IOB tag (O, B-<type>, I-<type>); is `tag_column` right?"
        ))
    }
}

pub(crate) fn load(
    file: &Path,
    spec: &DatasetSpec,
    decoder: &TextDecoder,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let decoded = decoder.decode(&bytes);
    report.note_encoding(decoded.encoding);
    for line in &decoded.bad_lines {
        report.note_undecodable(file, *line);
    }
    let iob1 = spec.tag_scheme()?;
    let name = file.display().to_string();
    let short = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let max = spec.max_rows.unwrap_or(usize::MAX);
    let text = decoded
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&decoded.text);

    // The first token line fixes the separator and the number of columns.
    let mut layout: Option<(bool, usize, usize)> = None; // (tabs, width, line)
    let mut tokens: Vec<String> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    let mut first_line = 0usize;
    let mut sentences = 0usize;
    let flush = |tokens: &mut Vec<String>,
                 tags: &mut Vec<String>,
                 first_line: usize,
                 out: &mut Vec<Example>|
     -> usize {
        if tokens.is_empty() {
            return 0;
        }
        let gold = if iob1 {
            iob1_to_iob2(tags)
        } else {
            tags.clone()
        };
        out.push(Example {
            id: format!("{short}:{first_line}"),
            input: Input::Tokens(std::mem::take(tokens)),
            label: None,
            gold: Some(Gold::Tags(gold)),
        });
        tags.clear();
        1
    };
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            sentences += flush(&mut tokens, &mut tags, first_line, out);
            if sentences >= max {
                break;
            }
            continue;
        }
        let tabs = layout.map_or(line.contains('\t'), |l| l.0);
        let fields: Vec<&str> = if tabs {
            line.split('\t').collect()
        } else {
            line.split_whitespace().collect()
        };
        if fields.first() == Some(&"-DOCSTART-") {
            sentences += flush(&mut tokens, &mut tags, first_line, out);
            report.header_lines += 1;
            if sentences >= max {
                break;
            }
            continue;
        }
        let (_, width, at) = *layout.get_or_insert((tabs, fields.len(), lineno));
        if fields.len() != width {
            bail!(
                "{name}:{lineno}: {} column(s), but the first token line ({name}:{at}) has \
                 {width}: a ragged CoNLL file (or a token with a space in it)",
                fields.len()
            );
        }
        let token_col = spec.token_column.unwrap_or(0);
        let tag_col = spec.tag_column.unwrap_or(width.saturating_sub(1));
        for (key, c) in [("token_column", token_col), ("tag_column", tag_col)] {
            if c >= width {
                bail!(
                    "{name}:{lineno}: dataset key `{key}` = {c}, but the file has {width} \
                     column(s) (0-based)"
                );
            }
        }
        if width < 2 && spec.tag_column.is_none() {
            bail!("{name}:{lineno}: one column only: no tag to read (expected `token tag`)");
        }
        let tag = fields[tag_col].trim();
        check_tag(tag).map_err(|why| anyhow::anyhow!("{name}:{lineno}: {why}"))?;
        if tokens.is_empty() {
            first_line = lineno;
        }
        tokens.push(fields[token_col].trim().to_string());
        tags.push(tag.to_string());
    }
    if sentences < max {
        flush(&mut tokens, &mut tags, first_line, out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn iob1_becomes_iob2() {
        assert_eq!(
            iob1_to_iob2(&v("I-PER I-PER O I-LOC B-LOC I-LOC I-ORG I-MISC")),
            v("B-PER I-PER O B-LOC B-LOC I-LOC B-ORG B-MISC")
        );
        let iob2 = v("B-PER I-PER O B-LOC B-LOC I-LOC O");
        assert_eq!(iob1_to_iob2(&iob2), iob2);
        assert!(iob1_to_iob2::<String>(&[]).is_empty());
    }

    #[test]
    fn tags_are_checked() {
        assert!(check_tag("O").is_ok());
        assert!(check_tag("B-X").is_ok());
        assert!(check_tag("I-").is_err());
        assert!(check_tag("NNP").is_err());
        assert!(check_tag("E-PER").is_err());
    }
}
