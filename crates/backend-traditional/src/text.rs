//! Text to tokens with scikit-learn's default analyzers, so features match its
//! `CountVectorizer()` and `TfidfVectorizer(analyzer="char", ngram_range=(2, 3))`.

/// Lower-case, as sklearn's default preprocessor (`lowercase=True`, no accent stripping).
pub(crate) fn preprocess(text: &str) -> String {
    text.to_lowercase()
}

/// sklearn's `token_pattern=r"(?u)\b\w\w+\b"`: maximal runs of word characters (alphanumeric or
/// `_`), kept when at least two characters long. Rust's `is_alphanumeric` stands for Python's
/// `\w`; they agree on letters and digits of every common script.
pub(crate) fn words(text: &str) -> Vec<&str> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte offset, chars so far)
    for (i, c) in text.char_indices() {
        match (is_word(c), start) {
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

/// sklearn's `_char_ngrams`: runs of two or more whitespace characters become one space (a
/// single tab or newline stays), then every substring of `min..=max` characters, shortest first.
pub(crate) fn char_ngrams(text: &str, min: usize, max: usize) -> Vec<String> {
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    let mut run: Vec<char> = Vec::new();
    for c in text.chars() {
        if c.is_whitespace() {
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
            words("it 's a film_noir , 2 thumbs up 10/10"),
            vec!["it", "film_noir", "thumbs", "up", "10", "10"]
        );
        assert_eq!(words("café—naïve"), vec!["café", "naïve"]);
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
    }
}
