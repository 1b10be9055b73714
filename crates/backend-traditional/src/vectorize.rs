//! Bag-of-words counts and TF-IDF of character n-grams, fitted on the training texts.
//!
//! TF-IDF follows sklearn's `TfidfVectorizer` defaults: raw counts as term frequency (no
//! sublinear tf), smooth idf `ln((1 + n) / (1 + df)) + 1`, rows scaled to unit L2 norm.
//! The vocabulary is every term of the training texts (no min/max df, no cap), numbered in
//! sorted order as sklearn does; terms unseen in training are ignored at prediction.

use super::sparse::Csr;
use super::text::{self, Tokenizer};
use std::collections::{BTreeMap, HashMap};

/// What a feature extractor counts in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analyzer {
    /// Word unigrams: sklearn's default token pattern (`Tokenizer::Sklearn`) or UAX #29 words.
    Words(Tokenizer),
    /// Character n-grams from `min` to `max` characters.
    Chars { min: usize, max: usize },
}

impl Analyzer {
    /// The terms of one text, lower-cased first.
    pub fn terms(self, raw: &str) -> Vec<String> {
        let lower = text::preprocess(raw);
        match self {
            Analyzer::Words(tokenizer) => text::words(&lower, tokenizer)
                .into_iter()
                .map(str::to_string)
                .collect(),
            Analyzer::Chars { min, max } => text::char_ngrams(&lower, min, max),
        }
    }
}

/// A fitted vocabulary with optional idf weights.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    pub analyzer: Analyzer,
    /// TF-IDF (true) or raw counts (false).
    pub tfidf: bool,
    vocab: HashMap<String, u32>,
    idf: Vec<f64>,
}

impl Vectorizer {
    pub fn new(analyzer: Analyzer, tfidf: bool) -> Self {
        Vectorizer {
            analyzer,
            tfidf,
            vocab: HashMap::new(),
            idf: Vec::new(),
        }
    }

    pub fn vocabulary_size(&self) -> usize {
        self.vocab.len()
    }

    /// The vocabulary's terms in column order (sorted by code point, as sklearn numbers them).
    pub fn vocabulary(&self) -> Vec<&str> {
        let mut terms: Vec<(&str, u32)> =
            self.vocab.iter().map(|(t, &j)| (t.as_str(), j)).collect();
        terms.sort_unstable_by_key(|&(_, j)| j);
        terms.into_iter().map(|(t, _)| t).collect()
    }

    /// The idf of a term, if it is in the vocabulary (for tests and reports).
    pub fn idf_of(&self, term: &str) -> Option<f64> {
        self.vocab.get(term).map(|&j| self.idf[j as usize])
    }

    /// The column of a term.
    pub fn column_of(&self, term: &str) -> Option<u32> {
        self.vocab.get(term).copied()
    }

    /// Learn the vocabulary (and idf) from `texts` and return their features with the number
    /// of terms each text had.
    pub fn fit_transform(&mut self, texts: &[&str]) -> (Csr, Vec<u32>) {
        let docs: Vec<Vec<String>> = texts.iter().map(|t| self.analyzer.terms(t)).collect();
        let mut df: BTreeMap<&str, usize> = BTreeMap::new();
        for doc in &docs {
            let mut uniq: Vec<&str> = doc.iter().map(String::as_str).collect();
            uniq.sort_unstable();
            uniq.dedup();
            for t in uniq {
                *df.entry(t).or_default() += 1;
            }
        }
        let n = docs.len() as f64;
        self.vocab = df
            .keys()
            .enumerate()
            .map(|(j, t)| (t.to_string(), j as u32))
            .collect();
        self.idf = df
            .values()
            .map(|&d| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0)
            .collect();
        let counts: Vec<u32> = docs.iter().map(|d| d.len() as u32).collect();
        (self.rows(&docs), counts)
    }

    /// Features of new texts with the fitted vocabulary, and the number of terms of each text
    /// (all of them, including those not in the vocabulary).
    pub fn transform(&self, texts: &[&str]) -> (Csr, Vec<u32>) {
        let docs: Vec<Vec<String>> = texts.iter().map(|t| self.analyzer.terms(t)).collect();
        let counts: Vec<u32> = docs.iter().map(|d| d.len() as u32).collect();
        (self.rows(&docs), counts)
    }

    fn rows(&self, docs: &[Vec<String>]) -> Csr {
        let mut m = Csr::new(self.vocab.len());
        for doc in docs {
            let mut tf: BTreeMap<u32, f64> = BTreeMap::new();
            for t in doc {
                if let Some(&j) = self.vocab.get(t) {
                    *tf.entry(j).or_default() += 1.0;
                }
            }
            if self.tfidf {
                for (j, v) in tf.iter_mut() {
                    *v *= self.idf[*j as usize];
                }
                let norm = tf.values().map(|v| v * v).sum::<f64>().sqrt();
                if norm > 0.0 {
                    tf.values_mut().for_each(|v| *v /= norm);
                }
            }
            m.push_row(tf);
        }
        m
    }
}
