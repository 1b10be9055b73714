//! Traditional text classifiers, as in Zschache and Hartwig (2025): bag-of-words counts,
//! TF-IDF of character 2-3-grams, or sentence embeddings, each followed by logistic regression
//! (`*-lr`, scikit-learn's `LogisticRegression()`) or gradient-boosted trees (`*-xgb`,
//! `xgboost.XGBClassifier()` with its defaults; see `gbdt.rs`).
//! Each is a `Backend` that must be fitted (`needs_fit`) before it predicts.
//!
//! Must not know about: the meter, the store, other backends (the sentence embedder comes in
//! as a `powerhungry_tasks::TextEmbedder`, built by the harness).

mod embedding;
mod gbdt;
mod hist;
mod lbfgs;
mod logreg;
mod pyunicode_tables;
mod sparse;
mod text;
mod vectorize;

pub use embedding::{EmbeddingFeatures, Scaling};
pub use gbdt::{Gbdt, GbdtOptions};
pub use logreg::{LogReg, LogRegOptions};
pub use sparse::Csr;
pub use text::{is_python_space, is_python_word, python_unicode_version, Tokenizer};
pub use vectorize::{Analyzer, Vectorizer};

use anyhow::{anyhow, bail, Context, Result};
use powerhungry_tasks::{Backend, Example, ModelInfo, Output, Prediction, TextEmbedder};

/// The kinds a suite names (`kind = "bow-lr"` under `backend = "traditional"`).
pub const KINDS: [&str; 6] = [
    "bow-lr",
    "tfidf-char-lr",
    "embedding-lr",
    "bow-xgb",
    "tfidf-char-xgb",
    "embedding-xgb",
];

/// Options that only logistic regression reads, and only gradient boosting.
const LR_KEYS: [&str; 3] = ["c", "max_iter", "tol"];
const XGB_KEYS: [&str; 5] = [
    "n_estimators",
    "max_depth",
    "learning_rate",
    "max_bin",
    "threads",
];

/// Model options a suite may set for a traditional model. `embedder` is read by the harness
/// (which builds the `TextEmbedder`), not here; it is accepted so unknown keys stay errors.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraditionalOptions {
    /// Inverse regularisation strength (sklearn's C). Default 1.0.
    pub c: Option<f64>,
    /// L-BFGS iterations at most. Default 1000.
    pub max_iter: Option<usize>,
    /// Gradient boosting (`*-xgb`): boosting rounds. Default 100.
    pub n_estimators: Option<usize>,
    /// Gradient boosting: tree depth. Default 6.
    pub max_depth: Option<usize>,
    /// Gradient boosting: shrinkage (eta). Default 0.3.
    pub learning_rate: Option<f32>,
    /// Gradient boosting: histogram bins per feature. Default 256.
    pub max_bin: Option<usize>,
    /// Gradient boosting: threads (0 = all cores). Default 0.
    pub threads: Option<usize>,
    /// Stop when the largest gradient component is under this. Default 1e-6.
    pub tol: Option<f64>,
    /// Texts per `embed` call for embedding features. Default 32.
    pub embed_batch_size: Option<usize>,
    /// Scaling of embedding vectors: `l2` (default), `standardize` or `none`.
    pub embedding_scaling: Option<Scaling>,
    /// The embedding model, for the harness (a model id or local path).
    pub embedder: Option<toml::Value>,
    /// Word tokenizer of `bow-lr`: `sklearn` (default, scikit-learn's `CountVectorizer()`) or
    /// `uax29` (Unicode word segmentation). Read and checked by `from_table` itself.
    #[serde(skip)]
    pub tokenizer: Option<Tokenizer>,
}

impl TraditionalOptions {
    /// Parse a suite's `options` table; errors name the key.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        let mut table = table.clone();
        let tokenizer = table.remove("tokenizer").map(parse_tokenizer).transpose()?;
        let mut opts: TraditionalOptions = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| anyhow!("model options: {}", e.message()))?;
        opts.tokenizer = tokenizer;
        if opts.embed_batch_size == Some(0) {
            bail!("model option `embed_batch_size`: expected at least 1");
        }
        if let Some(c) = opts.c {
            if !(c > 0.0 && c.is_finite()) {
                bail!("model option `c`: expected a positive number, got {c}");
            }
        }
        if opts.tol.is_some_and(|t| t.is_nan() || t <= 0.0) {
            bail!("model option `tol`: expected a positive number");
        }
        if opts
            .learning_rate
            .is_some_and(|t| !(t > 0.0 && t.is_finite()))
        {
            bail!("model option `learning_rate`: expected a positive number");
        }
        if opts.max_bin.is_some_and(|b| b < 2) {
            bail!("model option `max_bin`: expected at least 2");
        }
        if opts.max_depth == Some(0) {
            bail!("model option `max_depth`: expected at least 1");
        }
        Ok(opts)
    }

    /// The classifier's options, defaults filled in.
    pub fn logreg(&self) -> LogRegOptions {
        let d = LogRegOptions::default();
        LogRegOptions {
            c: self.c.unwrap_or(d.c),
            max_iter: self.max_iter.unwrap_or(d.max_iter),
            tol: self.tol.unwrap_or(d.tol),
        }
    }

    /// The booster's options, defaults filled in.
    pub fn gbdt(&self) -> GbdtOptions {
        let d = GbdtOptions::default();
        GbdtOptions {
            rounds: self.n_estimators.unwrap_or(d.rounds),
            max_depth: self.max_depth.unwrap_or(d.max_depth),
            learning_rate: self.learning_rate.unwrap_or(d.learning_rate),
            max_bin: self.max_bin.unwrap_or(d.max_bin),
            threads: self.threads.unwrap_or(d.threads),
            ..d
        }
    }
}

/// Which classifier follows the features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClassifierOptions {
    LogReg(LogRegOptions),
    Gbdt(GbdtOptions),
}

impl ClassifierOptions {
    fn suffix(&self) -> &'static str {
        match self {
            ClassifierOptions::LogReg(_) => "lr",
            ClassifierOptions::Gbdt(_) => "xgb",
        }
    }
}

impl From<LogRegOptions> for ClassifierOptions {
    fn from(o: LogRegOptions) -> Self {
        ClassifierOptions::LogReg(o)
    }
}

impl From<GbdtOptions> for ClassifierOptions {
    fn from(o: GbdtOptions) -> Self {
        ClassifierOptions::Gbdt(o)
    }
}

/// A fitted classifier.
pub enum Classifier {
    LogReg(LogReg),
    Gbdt(Gbdt),
}

impl Classifier {
    fn predict(&self, x: &Csr) -> Vec<&str> {
        match self {
            Classifier::LogReg(m) => m.predict(x),
            Classifier::Gbdt(m) => m.predict(x),
        }
    }
}

fn parse_tokenizer(value: toml::Value) -> Result<Tokenizer> {
    let expected = Tokenizer::NAMES.map(|n| format!("\"{n}\"")).join(" or ");
    match &value {
        toml::Value::String(s) => Tokenizer::from_name(s)
            .ok_or_else(|| anyhow!("model option `tokenizer`: expected {expected}, got {s:?}")),
        other => bail!(
            "model option `tokenizer`: expected {expected} (a string), got {}",
            other
        ),
    }
}

/// Where features come from.
enum Features {
    Sparse(Vectorizer),
    Embedding(EmbeddingFeatures),
}

impl Features {
    fn fit_transform(&mut self, texts: &[&str]) -> Result<(Csr, Vec<u32>)> {
        match self {
            Features::Sparse(v) => Ok(v.fit_transform(texts)),
            Features::Embedding(e) => e.fit_transform(texts),
        }
    }

    fn transform(&mut self, texts: &[&str]) -> Result<(Csr, Vec<u32>)> {
        match self {
            Features::Sparse(v) => Ok(v.transform(texts)),
            Features::Embedding(e) => e.transform(texts),
        }
    }
}

/// Features + a classifier (logistic regression or gradient boosting).
pub struct TraditionalBackend {
    kind: &'static str,
    features: Features,
    options: ClassifierOptions,
    model: Option<Classifier>,
}

/// Build a traditional model of `kind`. `embedder` is required for `embedding-lr` and
/// `embedding-xgb` and must be `None` otherwise.
pub fn build(
    kind: &str,
    options: &toml::Table,
    embedder: Option<Box<dyn TextEmbedder>>,
) -> Result<Box<dyn Backend>> {
    let opts = TraditionalOptions::from_table(options)?;
    if !KINDS.contains(&kind) {
        bail!(
            "{kind:?} is not a traditional model kind; expected one of {}",
            KINDS.map(|k| format!("\"{k}\"")).join(", ")
        );
    }
    let (features, classifier) = kind.rsplit_once('-').unwrap_or((kind, ""));
    if opts.tokenizer.is_some() && features != "bow" {
        bail!("model option `tokenizer` applies to kinds \"bow-lr\" and \"bow-xgb\" only, not {kind:?}");
    }
    let (foreign, options): (&[&str], ClassifierOptions) = if classifier == "xgb" {
        (&LR_KEYS, opts.gbdt().into())
    } else {
        (&XGB_KEYS, opts.logreg().into())
    };
    if let Some(k) = foreign.iter().find(|k| options_has(&opts, k)) {
        bail!("model option `{k}` does not apply to kind {kind:?}");
    }
    let backend = match (features, embedder) {
        ("bow", None) => {
            TraditionalBackend::bag_of_words_with(opts.tokenizer.unwrap_or_default(), options)
        }
        ("tfidf-char", None) => TraditionalBackend::tfidf_char(options),
        ("embedding", Some(e)) => {
            let scaling = opts.embedding_scaling.unwrap_or_default();
            let batch = opts.embed_batch_size.unwrap_or(32);
            TraditionalBackend::embedding(e, batch, scaling, options)
        }
        ("embedding", None) => bail!("kind {kind:?} needs a sentence-embedding model"),
        (_, Some(_)) => bail!("kind {kind:?} takes no embedding model"),
        _ => bail!("{kind:?} is not a traditional model kind"),
    };
    Ok(Box::new(backend))
}

fn options_has(o: &TraditionalOptions, key: &str) -> bool {
    match key {
        "c" => o.c.is_some(),
        "max_iter" => o.max_iter.is_some(),
        "tol" => o.tol.is_some(),
        "n_estimators" => o.n_estimators.is_some(),
        "max_depth" => o.max_depth.is_some(),
        "learning_rate" => o.learning_rate.is_some(),
        "max_bin" => o.max_bin.is_some(),
        "threads" => o.threads.is_some(),
        _ => false,
    }
}

fn kind_name(features: &str, c: &ClassifierOptions) -> &'static str {
    match (features, c.suffix()) {
        ("bow", "lr") => "bow-lr",
        ("bow", _) => "bow-xgb",
        ("tfidf-char", "lr") => "tfidf-char-lr",
        ("tfidf-char", _) => "tfidf-char-xgb",
        (_, "lr") => "embedding-lr",
        _ => "embedding-xgb",
    }
}

impl TraditionalBackend {
    /// Word-unigram counts (sklearn `CountVectorizer()`) + the classifier.
    pub fn bag_of_words(options: impl Into<ClassifierOptions>) -> Self {
        Self::bag_of_words_with(Tokenizer::Sklearn, options)
    }

    /// Word-unigram counts with words from `tokenizer` + the classifier.
    pub fn bag_of_words_with(tokenizer: Tokenizer, options: impl Into<ClassifierOptions>) -> Self {
        let options = options.into();
        TraditionalBackend {
            kind: kind_name("bow", &options),
            features: Features::Sparse(Vectorizer::new(Analyzer::Words(tokenizer), false)),
            options,
            model: None,
        }
    }

    /// TF-IDF of character 2-3-grams (sklearn `TfidfVectorizer(analyzer="char",
    /// ngram_range=(2, 3))`) + the classifier.
    pub fn tfidf_char(options: impl Into<ClassifierOptions>) -> Self {
        let options = options.into();
        TraditionalBackend {
            kind: kind_name("tfidf-char", &options),
            features: Features::Sparse(Vectorizer::new(Analyzer::Chars { min: 2, max: 3 }, true)),
            options,
            model: None,
        }
    }

    /// Sentence embeddings + the classifier.
    pub fn embedding(
        embedder: Box<dyn TextEmbedder>,
        batch: usize,
        scaling: Scaling,
        options: impl Into<ClassifierOptions>,
    ) -> Self {
        let options = options.into();
        TraditionalBackend {
            kind: kind_name("embedding", &options),
            features: Features::Embedding(EmbeddingFeatures::new(embedder, batch, scaling)),
            options,
            model: None,
        }
    }

    /// The fitted logistic regression, if `fit` has run and the classifier is one.
    pub fn model(&self) -> Option<&LogReg> {
        match &self.model {
            Some(Classifier::LogReg(m)) => Some(m),
            _ => None,
        }
    }

    /// The fitted classifier, if `fit` has run.
    pub fn classifier(&self) -> Option<&Classifier> {
        self.model.as_ref()
    }

    fn features_description(&self) -> String {
        match &self.features {
            Features::Sparse(v) => {
                let what = match v.analyzer {
                    Analyzer::Words(Tokenizer::Sklearn) => {
                        "bag of words (word unigrams, counts, sklearn token pattern)".to_string()
                    }
                    Analyzer::Words(Tokenizer::Uax29) => {
                        "bag of words (word unigrams, counts, UAX #29 words)".to_string()
                    }
                    Analyzer::Chars { min, max } => {
                        format!("TF-IDF of character {min}-{max}-grams (smooth idf, l2 norm)")
                    }
                };
                format!("{what}, vocabulary {}", v.vocabulary_size())
            }
            Features::Embedding(e) => format!(
                "sentence embeddings ({} scaling): {}",
                e.scaling().name(),
                e.embedder_info().description
            ),
        }
    }
}

impl Backend for TraditionalBackend {
    fn info(&self) -> ModelInfo {
        let classifier = match &self.options {
            ClassifierOptions::LogReg(o) => format!("logistic regression (L2, C={}, L-BFGS)", o.c),
            ClassifierOptions::Gbdt(o) => format!(
                "gradient-boosted trees (xgboost-equivalent hist: {} rounds, depth {}, eta {}, \
                 {} bins)",
                o.rounds, o.max_depth, o.learning_rate, o.max_bin
            ),
        };
        let (parameters, status) = match &self.model {
            None => (None, " (not fitted)".to_string()),
            Some(m) => {
                let embedder = match &self.features {
                    Features::Embedding(e) => e.embedder_info().parameters.unwrap_or(0),
                    Features::Sparse(_) => 0,
                };
                match m {
                    Classifier::LogReg(m) => {
                        let conv = if m.outcome.converged {
                            format!("converged in {} iterations", m.outcome.iterations)
                        } else {
                            format!(
                                "NOT converged after {} iterations (max gradient {:.2e})",
                                m.outcome.iterations, m.outcome.gradient_max
                            )
                        };
                        (
                            Some(m.parameters() + embedder),
                            format!(", {} classes, {conv}", m.classes.len()),
                        )
                    }
                    Classifier::Gbdt(m) => (
                        Some(m.parameters() + embedder),
                        format!(
                            ", {} classes, {} trees, {} leaves",
                            m.classes.len(),
                            m.trees(),
                            m.leaves()
                        ),
                    ),
                }
            }
        };
        ModelInfo {
            parameters,
            description: format!(
                "{}: {} + {classifier}{status}",
                self.kind,
                self.features_description()
            ),
        }
    }

    fn needs_fit(&self) -> bool {
        true
    }

    fn fit(&mut self, train: &[Example]) -> Result<()> {
        let mut texts = Vec::with_capacity(train.len());
        let mut labels = Vec::with_capacity(train.len());
        for e in train {
            let text = e
                .input
                .as_text()
                .ok_or_else(|| anyhow!("example {}: traditional models read text only", e.id))?;
            let label = e
                .label
                .as_deref()
                .ok_or_else(|| anyhow!("example {}: a training example needs a label", e.id))?;
            texts.push(text);
            labels.push(label);
        }
        if texts.is_empty() {
            bail!("cannot fit {} on an empty training set", self.kind);
        }
        let (x, _) = self.features.fit_transform(&texts)?;
        let model = match &self.options {
            ClassifierOptions::LogReg(o) => LogReg::fit(&x, &labels, o).map(Classifier::LogReg),
            ClassifierOptions::Gbdt(o) => Gbdt::fit(&x, &labels, o).map(Classifier::Gbdt),
        }
        .with_context(|| format!("fitting {}", self.kind))?;
        self.model = Some(model);
        Ok(())
    }

    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        let texts = batch
            .iter()
            .map(|e| {
                e.input
                    .as_text()
                    .ok_or_else(|| anyhow!("example {}: traditional models read text only", e.id))
            })
            .collect::<Result<Vec<_>>>()?;
        let Some(model) = &self.model else {
            bail!("{} must be fitted before it predicts", self.kind);
        };
        let (x, tokens) = self.features.transform(&texts)?;
        Ok(model
            .predict(&x)
            .into_iter()
            .zip(tokens)
            .map(|(label, input_tokens)| Prediction {
                output: Output::Label(label.to_string()),
                input_tokens,
                output_tokens: 0,
                request: None,
            })
            .collect())
    }
}
