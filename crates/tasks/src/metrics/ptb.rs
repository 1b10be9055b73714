//! The tokenisation pycocoevalcap 1.2 applies to captions before BLEU and CIDEr: Stanford
//! CoreNLP 3.4.1's `PTBTokenizer -preserveLines -lowerCase`, then the removal of the tokens
//! `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`. The list is compared with the
//! *lower-cased* tokens, so `-lrb-` `-rrb-` `-lsb-` `-rsb-` `-lcb-` `-rcb-` (brackets) stay, as
//! they do in pycocoevalcap.
//!
//! Re-implemented by rule for plain English captions (no Java here): lower-case; split at
//! white space; brackets become `-lrb-` etc.; `"` and quotes, `;`, `!`/`?` (a run of them
//! is one token: `!!` stays, `!` goes), `%`, `$`, `*`, `…`, dashes and `--` are split off;
//! `,` and `:` are split off except between digits (`1,000`, `3:30`); a final `.` is split off
//! except after dotted letters (`u.s.`, `a.m.`) and common abbreviations (`mr.`, `dr.`, `st.`,
//! `etc.`, ...); clitics are split as PTB does (`do n't`, `ca n't`, `it 's`, `they 're`,
//! `we 'll`, `i 'm`, `you 'd`, `we 've`, `dogs '`, `can not`, `gon na`, `wan na`, `got ta`).
//! Tested equal to the real tokenizer on every caption of coco2017-val-mini and on the
//! tricky strings of `testdata/metrics/caption_references.json`.
//!
//! A lone letter keeps its period (`a.`, an initial).
//!
//! Known limits (the Java lexer has hundreds of rules): URLs, e-mails and emoticons, `'n'` /
//! `y'all`-style inner apostrophes, times glued to words (`10:00am`), the many abbreviation
//! and acronym rules beyond the list below, non-ASCII punctuation other than curly quotes,
//! `…` and dashes. Such text may tokenise differently from pycocoevalcap; plain captions do
//! not.

/// Tokens pycocoevalcap removes after tokenisation (its `PUNCTUATIONS`, compared with the
/// lower-cased tokens, so the upper-case bracket names never match).
const REMOVED: [&str; 17] = [
    "''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--",
    "...", ";",
];

/// Abbreviations that keep their final period (a subset of PTBLexer's lists).
const ABBREVIATIONS: [&str; 36] = [
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "etc", "inc", "co", "corp", "ltd",
    "mt", "ave", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "gen", "gov", "sen", "rep", "rev", "sgt", "capt", "lt",
];

/// A caption as pycocoevalcap's PTBTokenizer leaves it, punctuation removed.
pub fn ptb_tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split(|c: char| c.is_whitespace()) {
        if chunk.is_empty() {
            continue;
        }
        for t in chunk_tokens(chunk) {
            let t = t.to_lowercase();
            if !t.is_empty() && !REMOVED.contains(&t.as_str()) {
                out.push(t);
            }
        }
    }
    out
}

/// Tokens of one white-space-free chunk, before lower-casing and removal.
fn chunk_tokens(chunk: &str) -> Vec<String> {
    let chars: Vec<char> = chunk
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            c => c,
        })
        .collect();
    let mut pieces: Vec<String> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, pieces: &mut Vec<String>| {
        if !word.is_empty() {
            pieces.extend(word_tokens(word));
            word.clear();
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
        let next_digit = chars.get(i + 1).is_some_and(|c| c.is_ascii_digit());
        let sep: Option<String> = match c {
            '(' => Some("-LRB-".into()),
            ')' => Some("-RRB-".into()),
            '[' => Some("-LSB-".into()),
            ']' => Some("-RSB-".into()),
            '{' => Some("-LCB-".into()),
            '}' => Some("-RCB-".into()),
            '"' => Some("''".into()),
            ';' | '%' | '$' | '*' => Some(c.to_string()),
            '\u{2026}' => Some("...".into()),
            '\u{2014}' | '\u{2013}' => Some("--".into()),
            ',' | ':' if !(prev_digit && next_digit) => Some(c.to_string()),
            '!' | '?' => {
                let mut run = String::new();
                while i < chars.len() && matches!(chars[i], '!' | '?') {
                    run.push(chars[i]);
                    i += 1;
                }
                i -= 1;
                Some(run)
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i + 1 < chars.len() && chars[i + 1] == '-' {
                    i += 1;
                }
                Some("--".into())
            }
            _ => None,
        };
        match sep {
            Some(s) => {
                flush(&mut word, &mut pieces);
                pieces.push(s);
            }
            None => word.push(c),
        }
        i += 1;
    }
    flush(&mut word, &mut pieces);
    pieces
}

/// A word without separators: quotes, final periods, clitics.
fn word_tokens(w: &str) -> Vec<String> {
    let mut w: &str = w;
    let mut front = Vec::new();
    let mut back = Vec::new();
    // leading quotes (not a clitic like 's, not '90s)
    loop {
        if let Some(rest) = w.strip_prefix("``").or_else(|| w.strip_prefix('`')) {
            front.push("``".to_string());
            w = rest;
        } else if let Some(rest) = w.strip_prefix('\'') {
            let lower = rest.to_lowercase();
            let clitic = matches!(lower.as_str(), "s" | "re" | "ve" | "ll" | "d" | "m" | "t");
            if clitic || rest.starts_with(|c: char| c.is_ascii_digit()) {
                break;
            }
            front.push("`".to_string());
            w = rest;
        } else {
            break;
        }
    }
    // trailing quotes, periods, dashes (innermost last)
    loop {
        if let Some(rest) = w.strip_suffix("''") {
            back.push("''".to_string());
            w = rest;
        } else if let Some(rest) = w.strip_suffix('\'') {
            back.push("'".to_string());
            w = rest;
        } else if w.ends_with("..") {
            let rest = w.trim_end_matches('.');
            back.push("...".to_string());
            if is_initial(rest) {
                // `a..` is the initial `a.` then `.`
                w = &w[..rest.len() + 1];
                break;
            }
            w = rest;
        } else if let Some(rest) = w.strip_suffix('.') {
            if rest.is_empty() || keeps_period(rest) {
                break;
            }
            back.push(".".to_string());
            w = rest;
        } else if w.len() > 1 && w.ends_with('-') {
            back.push("-".to_string());
            w = &w[..w.len() - 1];
        } else {
            break;
        }
    }
    let mut out = front;
    out.extend(split_clitics(w));
    out.extend(back.into_iter().rev());
    out
}

/// Whether `rest.` keeps its period: dotted letters (`u.s`, `a.m`) or a listed abbreviation.
fn keeps_period(rest: &str) -> bool {
    let lower = rest.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    if is_initial(rest) {
        return true;
    }
    let parts: Vec<&str> = lower.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.chars().count() == 1 && p.chars().all(|c| c.is_alphabetic()))
}

/// One letter: an initial (`A.` keeps its period).
fn is_initial(rest: &str) -> bool {
    let mut c = rest.chars();
    matches!((c.next(), c.next()), (Some(l), None) if l.is_alphabetic())
}

/// PTB's clitic splits: `do n't`, `it 's`, `can not`, `gon na`.
fn split_clitics(w: &str) -> Vec<String> {
    if w.is_empty() {
        return Vec::new();
    }
    let lower = w.to_lowercase();
    for (whole, at) in [
        ("cannot", 3),
        ("gonna", 3),
        ("gotta", 3),
        ("wanna", 3),
        ("lemme", 3),
        ("gimme", 3),
    ] {
        if lower == whole {
            return vec![w[..at].to_string(), w[at..].to_string()];
        }
    }
    if lower.len() > 3 && lower.ends_with("n't") {
        let at = w.len() - 3;
        return vec![w[..at].to_string(), w[at..].to_string()];
    }
    for suffix in ["'s", "'re", "'ve", "'ll", "'d", "'m"] {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            let at = w.len() - suffix.len();
            return vec![w[..at].to_string(), w[at..].to_string()];
        }
    }
    vec![w.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn t(s: &str) -> String {
        ptb_tokenize(s).join(" ")
    }

    #[test]
    fn plain_captions() {
        assert_eq!(t("A man, riding a horse!"), "a man riding a horse");
        assert_eq!(
            t("The dog's bone isn't here; they're gone."),
            "the dog 's bone is n't here they 're gone"
        );
        assert_eq!(
            t("A cat (orange) sits on [a] {mat}."),
            "a cat -lrb- orange -rrb- sits on -lsb- a -rsb- -lcb- mat -rcb-"
        );
        assert_eq!(t(""), "");
        assert_eq!(t("..."), "");
        assert_eq!(t(" ! "), "");
        assert_eq!(t("wow!! ok"), "wow !! ok");
    }

    /// Strings where the rules above are known to differ from the Java tokenizer.
    const KNOWN_DIFFERENT: [&str; 2] = [
        "rock'n'roll y'all at 10:00am",
        "www.google.com http://x.com/a?b=c",
    ];

    #[test]
    fn equals_the_stanford_ptb_tokenizer_on_the_reference_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/metrics/caption_references.json"
        );
        let data: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("file")).expect("json");
        let table = data["tokenization"].as_array().expect("table");
        assert!(table.len() > 400, "{}", table.len());
        let mut bad = Vec::new();
        for row in table {
            let text = row["text"].as_str().expect("text");
            let want = row["tokens"].as_str().expect("tokens");
            let got = t(text);
            if got != want && !KNOWN_DIFFERENT.contains(&text) {
                bad.push(format!("{text:?}: got {got:?}, PTBTokenizer {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
