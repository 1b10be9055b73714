//! Tokenization against scikit-learn and Python on many scripts.
//!
//! References (testdata/traditional, made by make_tokenizer_reference.py with scikit-learn 1.9.1
//! on Python 3.11, Unicode 14.0):
//! - tokenizer_sklearn.json: `CountVectorizer()` tokens and vocabulary, and the char 2-3-gram
//!   `TfidfVectorizer` vocabulary, of samples in Hindi, Bengali, Tamil, Thai, Arabic, Chinese,
//!   Russian, Greek, emoji and symbols, combining accents and unusual whitespace. Asserted equal.
//! - python_classes.json: every code point's `\w` and `\s` membership (`re.match`) and
//!   `str.lower()`. Asserted equal on every code point (lower-casing: on those assigned in
//!   Unicode 14.0, as Rust's tables are newer).

use powerhungry_backend_traditional::{
    build, is_python_space, is_python_word, python_unicode_version, Analyzer, LogRegOptions,
    Tokenizer, TraditionalBackend, TraditionalOptions, Vectorizer,
};
use powerhungry_tasks::{Backend, Example, Input, Output};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn reference(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/traditional")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is committed: {e}", path.display()));
    serde_json::from_str(&text).expect("reference is JSON")
}

fn strs(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("str").to_string())
        .collect()
}

fn vocab_map(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .expect("vocabulary")
        .iter()
        .map(|(t, j)| (t.clone(), j.as_u64().expect("index")))
        .collect()
}

fn fitted_vocab(v: &Vectorizer) -> BTreeMap<String, u64> {
    v.vocabulary()
        .into_iter()
        .enumerate()
        .map(|(j, t)| (t.to_string(), j as u64))
        .collect()
}

/// Inclusive ranges as a membership bitmap over all code points.
fn bitmap(ranges: &serde_json::Value) -> Vec<bool> {
    let mut m = vec![false; 0x11_0000];
    for r in ranges.as_array().expect("ranges") {
        let (a, b) = (r[0].as_u64().expect("lo"), r[1].as_u64().expect("hi"));
        for cp in a..=b {
            m[cp as usize] = true;
        }
    }
    m
}

fn samples() -> serde_json::Value {
    reference("tokenizer_sklearn.json")
}

#[test]
fn bag_of_words_vocabulary_equals_sklearn_on_every_script() {
    let r = samples();
    let samples = r["samples"].as_object().expect("samples");
    assert!(samples.len() >= 11, "{:?}", samples.keys());
    for (name, s) in samples {
        let texts = strs(&s["texts"]);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        // Tokens of each text, in order.
        for (text, want) in texts.iter().zip(s["tokens"].as_array().expect("tokens")) {
            let got = Analyzer::Words(Tokenizer::Sklearn).terms(text);
            assert_eq!(got, strs(want), "{name}: tokens of {text:?}");
        }
        // The vocabulary: the same terms, numbered the same.
        let mut v = Vectorizer::new(Analyzer::Words(Tokenizer::Sklearn), false);
        v.fit_transform(&texts);
        assert_eq!(
            fitted_vocab(&v),
            vocab_map(&s["vocabulary"]),
            "{name}: vocabulary"
        );
    }
}

#[test]
fn char_ngram_vocabulary_equals_sklearn_on_every_script() {
    let r = samples();
    for (name, s) in r["samples"].as_object().expect("samples") {
        let texts = strs(&s["texts"]);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut v = Vectorizer::new(Analyzer::Chars { min: 2, max: 3 }, true);
        v.fit_transform(&texts);
        assert_eq!(
            fitted_vocab(&v),
            vocab_map(&s["char_vocabulary"]),
            "{name}: char 2-3-gram vocabulary"
        );
    }
    // Whitespace that Python's \s has and Rust's is_whitespace lacks (U+001C..U+001F), and
    // the reverse check (U+200B, U+180E are not whitespace to either): n-grams in order.
    let ws = &r["samples"]["whitespace"];
    for (text, want) in strs(&ws["texts"])
        .iter()
        .zip(ws["char_ngrams"].as_array().expect("ngrams"))
    {
        let got = Analyzer::Chars { min: 2, max: 3 }.terms(text);
        assert_eq!(got, strs(want), "char n-grams of {text:?}");
    }
}

#[test]
fn python_word_and_space_classes_on_every_code_point() {
    let r = reference("python_classes.json");
    assert_eq!(r["unicode"].as_str(), Some(python_unicode_version()));
    let word = bitmap(&r["word"]);
    let space = bitmap(&r["space"]);
    let assigned = bitmap(&r["assigned"]);
    let mut checked = 0u32;
    // Where Rust's own classes (the rule this crate used before) differ, among code points
    // assigned in Unicode 14.0: (Rust only, Python only).
    let (mut word_diff, mut space_diff) = ((0u32, 0u32), (0u32, 0u32));
    for cp in 0..=0x10_FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue; // surrogates: not chars in Rust, never in a &str
        };
        assert_eq!(is_python_word(c), word[cp as usize], "\\w of U+{cp:04X}");
        assert_eq!(is_python_space(c), space[cp as usize], "\\s of U+{cp:04X}");
        checked += 1;
        if assigned[cp as usize] {
            let rust_word = c.is_alphanumeric() || c == '_';
            match (rust_word, word[cp as usize]) {
                (true, false) => word_diff.0 += 1,
                (false, true) => word_diff.1 += 1,
                _ => {}
            }
            match (c.is_whitespace(), space[cp as usize]) {
                (true, false) => space_diff.0 += 1,
                (false, true) => space_diff.1 += 1,
                _ => {}
            }
        }
    }
    assert_eq!(checked, 0x11_0000 - 0x800);
    println!(
        "assigned code points where Rust's is_alphanumeric/_ differs from \\w: {} Rust only, \
         {} Python only; is_whitespace vs \\s: {} Rust only, {} Python only",
        word_diff.0, word_diff.1, space_diff.0, space_diff.1
    );
    assert_eq!(space_diff, (0, 4), "U+001C..U+001F");
}

#[test]
fn lower_casing_equals_python_on_every_assigned_code_point() {
    let r = reference("python_classes.json");
    let assigned = bitmap(&r["assigned"]);
    let lower: BTreeMap<u32, String> = r["lower"]
        .as_object()
        .expect("lower")
        .iter()
        .map(|(k, v)| {
            let cp = u32::from_str_radix(k, 16).expect("hex");
            let s: String = v
                .as_array()
                .expect("array")
                .iter()
                .map(|c| char::from_u32(c.as_u64().expect("cp") as u32).expect("char"))
                .collect();
            (cp, s)
        })
        .collect();
    let mut newer = Vec::new();
    for cp in 0..=0x10_FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let ours: String = c.to_lowercase().collect();
        let python = lower.get(&cp).cloned().unwrap_or_else(|| c.to_string());
        if assigned[cp as usize] {
            assert_eq!(ours, python, "lower() of U+{cp:04X}");
        } else if ours != python {
            newer.push(cp); // assigned after Unicode 14.0: Rust's tables know them
        }
    }
    // Characters assigned after Unicode 14.0 with a lower-case mapping (e.g. Latin additions
    // of Unicode 16): few, and outside every sample here.
    assert!(newer.len() < 200, "{} newer mappings", newer.len());
}

#[test]
fn greek_final_sigma_as_python() {
    // Python: "ΟΔΥΣΣΕΥΣ ΑΣ'Α Σ".lower() == "οδυσσευς ασ'α σ"
    let got = Analyzer::Words(Tokenizer::Sklearn).terms("ΟΔΥΣΣΕΥΣ ΑΣ'Α ΣΣ");
    assert_eq!(got, ["οδυσσευς", "ασ", "σς"]);
}

fn hindi() -> (Vec<String>, Vec<String>) {
    let r = samples();
    let s = &r["samples"]["hindi"];
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for (t, l) in strs(&s["texts"])
        .into_iter()
        .zip(s["labels"].as_array().expect("labels"))
    {
        if let Some(l) = l.as_str() {
            texts.push(t);
            labels.push(l.to_string());
        }
    }
    (texts, labels)
}

/// The vocabulary of the rule this crate used before: Rust's `is_alphanumeric` or `_`, runs of 2+.
fn old_rule_vocabulary(texts: &[&str]) -> usize {
    let mut vocab = BTreeSet::new();
    for t in texts {
        let lower = t.to_lowercase();
        for w in lower.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if w.chars().count() >= 2 {
                vocab.insert(w.to_string());
            }
        }
    }
    vocab.len()
}

fn leave_one_out(
    tokenizer: Tokenizer,
    options: LogRegOptions,
    texts: &[String],
    labels: &[String],
) -> Vec<String> {
    let ex = |i: usize| Example {
        id: i.to_string(),
        input: Input::Text(texts[i].clone()),
        label: Some(labels[i].clone()),
        gold: None,
    };
    (0..texts.len())
        .map(|held| {
            let train: Vec<Example> = (0..texts.len()).filter(|&i| i != held).map(ex).collect();
            let mut m = TraditionalBackend::bag_of_words_with(tokenizer, options);
            m.fit(&train).expect("fit");
            let probe = ex(held);
            match &m.predict(&[&probe]).expect("predict")[0].output {
                Output::Label(l) => l.clone(),
                other => panic!("expected a label, got {other:?}"),
            }
        })
        .collect()
}

#[test]
fn hindi_questions_sklearn_tokens_lose_the_words_uax29_keeps_them() {
    let (texts, labels) = hindi();
    assert_eq!(texts.len(), 48);
    let texts_ref: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut sk = Vectorizer::new(Analyzer::Words(Tokenizer::Sklearn), false);
    let (_, sk_tokens) = sk.fit_transform(&texts_ref);
    let mut ux = Vectorizer::new(Analyzer::Words(Tokenizer::Uax29), false);
    let (_, ux_tokens) = ux.fit_transform(&texts_ref);
    let old = old_rule_vocabulary(&texts_ref);
    let sum = |v: &[u32]| v.iter().sum::<u32>();
    println!(
        "Hindi questions ({} texts): vocabulary sklearn {} ({} tokens), uax29 {} ({} tokens), \
         old is_alphanumeric rule {}",
        texts.len(),
        sk.vocabulary_size(),
        sum(&sk_tokens),
        ux.vocabulary_size(),
        sum(&ux_tokens),
        old
    );
    // Whole words survive UAX #29; sklearn keeps fragments between vowel signs.
    for w in ["भारत", "राजधानी", "कहाँ", "किसने", "कितने", "क्या", "कौन"]
    {
        assert!(ux.column_of(w).is_some(), "uax29 keeps {w}");
    }
    assert!(sk.column_of("शहर").is_some(), "no marks: kept by both");
    assert!(
        sk.column_of("रत").is_some(),
        "the tail of भारत after its vowel sign"
    );
    for w in ["राजधानी", "कहाँ", "किसने", "कितने", "क्या", "कौन"]
    {
        assert!(sk.column_of(w).is_none(), "sklearn splits {w}");
    }
    assert!(ux.vocabulary_size() > sk.vocabulary_size());

    // Leave-one-out question-type classification on the 48 questions (8 per class).
    let gold: Vec<&str> = labels.iter().map(String::as_str).collect();
    let acc = |p: &[String]| {
        p.iter()
            .zip(&gold)
            .filter(|(a, b)| a.as_str() == **b)
            .count() as f64
            / gold.len() as f64
    };
    let opts = LogRegOptions::default();
    let p_sk = leave_one_out(Tokenizer::Sklearn, opts, &texts, &labels);
    let p_ux = leave_one_out(Tokenizer::Uax29, opts, &texts, &labels);
    // At the optimum, our sklearn-tokenizer predictions are scikit-learn's, every one.
    let tight = LogRegOptions {
        c: 1.0,
        max_iter: 10_000,
        tol: 1e-9,
    };
    let r = samples();
    let want = strs(&r["samples"]["hindi"]["leave_one_out"]["predictions"]);
    assert_eq!(
        leave_one_out(Tokenizer::Sklearn, tight, &texts, &labels),
        want,
        "leave-one-out predictions vs scikit-learn"
    );
    let agree = p_sk.iter().zip(&p_ux).filter(|(a, b)| a == b).count();
    println!(
        "leave-one-out accuracy: sklearn {:.3}, uax29 {:.3}; the two agree on {agree} of {}",
        acc(&p_sk),
        acc(&p_ux),
        gold.len()
    );
    assert!(
        acc(&p_ux) > acc(&p_sk),
        "UAX #29 words classify better here"
    );
}

#[test]
fn tokenizer_option_is_validated() {
    let parse = |s: &str| TraditionalOptions::from_table(&toml::from_str(s).expect("toml"));
    assert_eq!(parse("").expect("empty").tokenizer, None);
    assert_eq!(
        parse("tokenizer = \"uax29\"").expect("uax29").tokenizer,
        Some(Tokenizer::Uax29)
    );
    assert_eq!(
        parse("tokenizer = \"sklearn\"").expect("sklearn").tokenizer,
        Some(Tokenizer::Sklearn)
    );
    for bad in [
        "tokenizer = \"whitespace\"",
        "tokenizer = 3",
        "tokenizer = \"UAX29\"",
    ] {
        let err = parse(bad).expect_err(bad).to_string();
        assert!(
            err.contains("`tokenizer`") && err.contains("\"sklearn\" or \"uax29\""),
            "{bad}: {err}"
        );
    }
    let uax: toml::Table = toml::from_str("tokenizer = \"uax29\"").expect("toml");
    let m = build("bow-lr", &uax, None).expect("bow-lr takes a tokenizer");
    assert!(
        m.info().description.contains("UAX #29"),
        "{}",
        m.info().description
    );
    let err = build("tfidf-char-lr", &uax, None)
        .err()
        .expect("char n-grams have no tokenizer")
        .to_string();
    assert!(
        err.contains("`tokenizer`") && err.contains("bow-lr"),
        "{err}"
    );
    let m = build("bow-lr", &toml::Table::new(), None).expect("default");
    assert!(m.info().description.contains("sklearn token pattern"));
}
