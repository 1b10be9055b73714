//! Text to tokens with scikit-learn's default analyzers, so features match its
//! `CountVectorizer()` and `TfidfVectorizer(analyzer="char", ngram_range=(2, 3))`, plus Unicode
//! word segmentation (UAX #29) as an alternative word tokenizer.
//!
//! scikit-learn's patterns are Python regular expressions, and Python's `\w` and `\s` are not
//! Rust's `char::is_alphanumeric` and `char::is_whitespace`:
//!
//! - `\w` (for `str` patterns) is `str.isalnum()` or `_`: general categories L* and N*. Combining
//!   marks (Mn, Mc, Me) are not word characters, so scikit-learn splits Devanagari, Bengali,
//!   Tamil, Thai … words at every vowel sign, virama and nukta ("हिन्दी" gives no token at all).
//!   Rust's `is_alphanumeric` includes the marks and symbols with the Other_Alphabetic property
//!   (vowel signs, circled letters Ⓐ), which on a Hindi question set gave 8,209 words against
//!   scikit-learn's 1,769 (see docs/datasets.md).
//! - `\s` is `str.isspace()`: bidi class WS, B or S, or category Zs. It includes U+001C..U+001F
//!   (information separators), which Rust's `is_whitespace` does not.
//!
//! The two classes come from a range table generated from Python (`pyunicode_tables.rs`, made
//! by `tools/gen_python_unicode.py`, Python 3.11, Unicode 14.0), rather than from a crate of
//! general categories: the table *is* Python's definition at a known Unicode version, needs no
//! dependency, and stays put when a crate moves to a newer Unicode version (a newer version only
//! adds characters; the studies' Python decides what those are). An exhaustive test checks
//! every code point against `re.match` (tests/traditional_tokenizer.rs).

use crate::pyunicode_tables::{SPACE, WORD};
use unicode_segmentation::UnicodeSegmentation;

/// How a text is cut into words for bag-of-words (`options = { tokenizer = "..." }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tokenizer {
    /// scikit-learn's default `token_pattern=r"(?u)\b\w\w+\b"` with Python's `\w`: maximal runs
    /// of two or more word characters (letters, numbers, `_`). Reproduces `CountVectorizer()`.
    #[default]
    Sklearn,
    /// Unicode word segmentation (UAX #29, `unicode-segmentation`'s `unicode_words`): words keep
    /// their combining marks and inner apostrophes and full stops ("don't", "3.14"); segments
    /// without a letter or digit are dropped; no minimum length (one Chinese character is a
    /// word, as is Hindi "न"). The better choice on scripts with combining marks (Indic). Not
    /// for Thai, Lao, Khmer, Myanmar: UAX #29 leaves them to a dictionary, so every letter
    /// becomes a word.
    Uax29,
}

impl Tokenizer {
    /// The names a suite gives (`tokenizer = "sklearn"`), in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["sklearn", "uax29"];

    /// The name a suite gives.
    pub fn name(self) -> &'static str {
        match self {
            Tokenizer::Sklearn => "sklearn",
            Tokenizer::Uax29 => "uax29",
        }
    }

    /// Parse a name, `None` when it is not one of `NAMES`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sklearn" => Some(Tokenizer::Sklearn),
            "uax29" => Some(Tokenizer::Uax29),
            _ => None,
        }
    }
}

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `\w` for `str` patterns (`str.isalnum()` or `_`), Unicode 14.0.
pub fn is_python_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_table(WORD, c)
}

/// Python's `\s` for `str` patterns (`str.isspace()`), Unicode 14.0.
pub fn is_python_space(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ');
    }
    in_table(SPACE, c)
}

/// The Unicode version of Python's classes used here.
pub fn python_unicode_version() -> &'static str {
    crate::pyunicode_tables::UNICODE_VERSION
}

/// Lower-case, as sklearn's default preprocessor (`lowercase=True`, no accent stripping).
/// Rust's `str::to_lowercase` and Python's `str.lower()` both apply the full lower-case mapping
/// with the Final_Sigma rule (tested on every code point and on Greek).
pub(crate) fn preprocess(text: &str) -> String {
    text.to_lowercase()
}

/// Words of a lower-cased text with `tokenizer`.
pub(crate) fn words(text: &str, tokenizer: Tokenizer) -> Vec<&str> {
    match tokenizer {
        Tokenizer::Sklearn => sklearn_words(text),
        Tokenizer::Uax29 => text.unicode_words().collect(),
    }
}

/// sklearn's `token_pattern=r"(?u)\b\w\w+\b"`: maximal runs of Python word characters, kept
/// when at least two characters long (`\b` sits exactly between a `\w` and a non-`\w`, so the
/// matches are the maximal runs).
fn sklearn_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte offset, chars so far)
    for (i, c) in text.char_indices() {
        match (is_python_word(c), start) {
            (true, None) => start = Some((i, 1)),
            (true, Some((s, n))) => start = Some((s, n + 1)),
            (false, Some((s, n))) => {
                if n >= 2 {
                    out.push(&text[s..i]);
                }
                start = None;
            }
            (false, None) => {}
        }
    }
    if let Some((s, n)) = start {
        if n >= 2 {
            out.push(&text[s..]);
        }
    }
    out
}

/// sklearn's `_char_ngrams`: runs of two or more whitespace characters (Python's `\s`) become
/// one space (a single tab or newline stays), then every substring of `min..=max` characters,
/// shortest first.
pub(crate) fn char_ngrams(text: &str, min: usize, max: usize) -> Vec<String> {
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    let mut run: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_python_space(c) {
            run.push(c);
            continue;
        }
        flush_whitespace(&mut run, &mut chars);
        chars.push(c);
    }
    flush_whitespace(&mut run, &mut chars);
    let mut out = Vec::new();
    for n in min..=max {
        if chars.len() < n {
            break;
        }
        for w in chars.windows(n) {
            out.push(w.iter().collect());
        }
    }
    out
}

fn flush_whitespace(run: &mut Vec<char>, chars: &mut Vec<char>) {
    match run.len() {
        0 => {}
        1 => chars.push(run[0]),
        _ => chars.push(' '),
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_single_characters_and_punctuation() {
        // As sklearn: "a" and "'s" are dropped, "it" is kept, digits count.
        assert_eq!(
            words("it 's a film_noir , 2 thumbs up 10/10", Tokenizer::Sklearn),
            vec!["it", "film_noir", "thumbs", "up", "10", "10"]
        );
        assert_eq!(
            words("café—naïve", Tokenizer::Sklearn),
            vec!["café", "naïve"]
        );
    }

    #[test]
    fn sklearn_words_split_at_combining_marks_uax29_does_not() {
        // sklearn: CountVectorizer().build_analyzer()("हिन्दी भाषा") -> []: ह ि न ् द ी and
        // भ ा ष ा alternate letter and mark, so no run of two word characters is left.
        // "कमल नयन" has no marks: two tokens.
        assert_eq!(words("हिन्दी भाषा", Tokenizer::Sklearn), Vec::<&str>::new());
        assert_eq!(words("कमल नयन", Tokenizer::Sklearn), vec!["कमल", "नयन"]);
        assert_eq!(words("हिन्दी भाषा", Tokenizer::Uax29), vec!["हिन्दी", "भाषा"]);
        assert_eq!(
            words("don't stop, 3.14 a", Tokenizer::Uax29),
            vec!["don't", "stop", "3.14", "a"]
        );
        // UAX #29 leaves Thai and Han to dictionary segmentation, which it does not do: every
        // Thai letter (with its marks) and every Han character is a word of its own.
        assert_eq!(
            words("บาท วันนี้", Tokenizer::Uax29),
            vec!["บ", "า", "ท", "วั", "น", "นี้"]
        );
        assert_eq!(words("北京。", Tokenizer::Uax29), vec!["北", "京"]);
    }

    #[test]
    fn python_classes_differ_from_rust_where_expected() {
        // Devanagari vowel sign AA (Mc), anusvara (Mn), circled A (So): Rust alphanumeric
        // (Other_Alphabetic), not \w. The virama (Mn) and nukta are neither, so the old
        // is_alphanumeric rule split "क्या" too.
        for c in ['\u{093E}', '\u{0902}', 'Ⓐ'] {
            assert!(c.is_alphanumeric() && !is_python_word(c), "{c:?}");
        }
        for c in ['\u{094D}', '\u{093C}'] {
            assert!(!c.is_alphanumeric() && !is_python_word(c), "{c:?}");
        }
        assert!(is_python_word('_') && is_python_word('ǅ') && is_python_word('²'));
        for c in '\u{1c}'..='\u{1f}' {
            assert!(is_python_space(c) && !c.is_whitespace(), "{c:?}");
        }
        assert!(is_python_space('\u{85}') && is_python_space('\u{3000}'));
        assert!(!is_python_space('\u{200b}'));
    }

    #[test]
    fn char_ngrams_as_sklearn() {
        // sklearn: TfidfVectorizer(analyzer="char", ngram_range=(2,3)).build_analyzer()("Ab  c")
        // -> ['ab', 'b ', ' c', 'ab ', 'b c'] (the double space became one).
        assert_eq!(
            char_ngrams(&preprocess("Ab  c"), 2, 3),
            vec!["ab", "b ", " c", "ab ", "b c"]
        );
        assert_eq!(char_ngrams("a", 2, 3), Vec::<String>::new());
        // A single newline is kept, as Python's r"\s\s+" only replaces runs.
        assert_eq!(char_ngrams("a\nb", 2, 2), vec!["a\n", "\nb"]);
        // U+001F is whitespace to Python: two of them are one space.
        assert_eq!(char_ngrams("a\u{1f}\u{1f}b", 2, 2), vec!["a ", " b"]);
    }
}
