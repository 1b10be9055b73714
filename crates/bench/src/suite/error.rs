//! Suite errors that say where and what: "suites/x.toml: line 12: key `models[1].backend`:
//! unknown variant `torch`, expected `traditional` or `candle`".

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum SuiteError {
    /// The file could not be read.
    Io { file: String, message: String },
    /// The file was read but is not a valid suite.
    Invalid {
        file: String,
        /// 1-based line, where it could be found.
        line: Option<usize>,
        /// Dotted key path, e.g. `models[1].backend`; empty for the whole file.
        key: String,
        message: String,
    },
}

impl std::error::Error for SuiteError {}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuiteError::Io { file, message } => {
                write!(f, "{file}: cannot read the suite: {message}")
            }
            SuiteError::Invalid {
                file,
                line,
                key,
                message,
            } => {
                write!(f, "{file}: ")?;
                if let Some(line) = line {
                    write!(f, "line {line}: ")?;
                }
                if !key.is_empty() {
                    write!(f, "key `{key}`: ")?;
                }
                write!(f, "{message}")
            }
        }
    }
}

impl SuiteError {
    pub(crate) fn from_toml(
        file: &str,
        text: &str,
        e: serde_path_to_error::Error<toml::de::Error>,
    ) -> SuiteError {
        let path = e.path().to_string();
        let key = if path == "." || path == "?" {
            String::new()
        } else {
            path
        };
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start));
        // toml's message is one line without location; ours adds file, line and key.
        let message = inner.message().trim().to_string();
        SuiteError::Invalid {
            file: file.into(),
            line,
            key,
            message,
        }
    }

    /// An error found after parsing: the line is located from the key path.
    pub(crate) fn invalid(file: &str, text: &str, key: String, message: String) -> SuiteError {
        let line = locate(text, &key);
        SuiteError::Invalid {
            file: file.into(),
            line,
            key,
            message,
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Best-effort line of a key path like `models[1].kind` in a suite written with `[[models]]`
/// headers (the documented style). None when it cannot be found.
fn locate(text: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let is_header = |l: &str| l.trim_start().starts_with('[');
    let assigns = |l: &str, k: &str| {
        let l = l.trim_start();
        l.strip_prefix(k)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let (table, field) = match key.split_once('.') {
        Some((t, f)) => (t, Some(f)),
        None => (key, None),
    };
    let Some((array, index)) = table.strip_suffix(']').and_then(|t| t.split_once('[')) else {
        // A top-level key: its assignment before the first table header.
        return lines
            .iter()
            .take_while(|l| !is_header(l))
            .position(|l| assigns(l, table))
            .map(|i| i + 1);
    };
    let index: usize = index.parse().ok()?;
    let header = format!("[[{array}]]");
    let start = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(index)
        .map(|(i, _)| i)?;
    let Some(field) = field else {
        return Some(start + 1);
    };
    let first = field.split(['.', '[']).next().unwrap_or(field);
    let found = lines[start + 1..]
        .iter()
        .take_while(|l| !is_header(l))
        .position(|l| assigns(l, first));
    match found {
        Some(i) => Some(start + 2 + i),
        // A sub-table such as `[datasets.source]` right after the header.
        None => lines[start + 1..]
            .iter()
            .position(|l| l.trim() == format!("[{array}.{first}]"))
            .map(|i| start + 2 + i)
            .or(Some(start + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n\n[[models]]\nname = \"a\"\nkind = \"k\"\n\n[[models]]\nname = \"b\"\nkind = \"z\"\n\n[[datasets]]\nname = \"d\"\n[datasets.source]\npath = \"p\"\n";

    #[test]
    fn keys_are_located_on_their_lines() {
        assert_eq!(locate(TEXT, "name"), Some(1));
        assert_eq!(locate(TEXT, "models[0].kind"), Some(5));
        assert_eq!(locate(TEXT, "models[1].kind"), Some(9));
        assert_eq!(locate(TEXT, "models[1]"), Some(7));
        assert_eq!(locate(TEXT, "datasets[0].source"), Some(13));
        assert_eq!(locate(TEXT, "models[5].kind"), None);
        assert_eq!(locate(TEXT, "protocol"), None);
    }

    #[test]
    fn offsets_become_lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
