//! Backend implementations: `traditional` (bag-of-words, TF-IDF, embeddings + logistic
//! regression) and `candle` (transformer models in pure Rust).
pub mod candle;
pub mod traditional;
