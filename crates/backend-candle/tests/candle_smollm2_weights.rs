//! SmolLM2's weights re-encoded at load (the causal LM's `weights` option, src/reencode.rs)
//! against the same file as stored and against llama.cpp's greedy tokens and logits
//! (testdata/smollm2/reference.json, made by make_reference.py on the same file).
//! Needs the real file: `POWERHUNGRY_SMOLLM2_GGUF` (scripts/fetch-smollm2.sh prints it), else
//! `.cache/smollm2/` in the repository; a missing file FAILS (crates/testkit's rule).

use powerhungry_backend_candle::causal_lm::{GenerateOptions, GgufLm};
use powerhungry_backend_candle::{CausalLm, CausalLmOptions, WeightFormat};
use powerhungry_tasks::Backend;
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn gguf() -> Option<PathBuf> {
    powerhungry_testkit::smollm2_gguf()
}

#[derive(Deserialize)]
struct Reference {
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
    rendered: String,
    #[serde(default)]
    llama_cpp_greedy: Option<Vec<u32>>,
    #[serde(default)]
    llama_cpp_top_logits: Option<Vec<(u32, f64)>>,
}

fn reference() -> Reference {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/smollm2/reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn load(path: &Path, w: WeightFormat) -> GgufLm {
    GgufLm::load_with(path, w).unwrap_or_else(|e| panic!("{w}: {e:#}"))
}

fn greedy(lm: &mut GgufLm, rendered: &str) -> (Vec<u32>, Vec<f32>) {
    let opts = GenerateOptions {
        max_new_tokens: 10,
        keep_first_logits: true,
        ..Default::default()
    };
    let ids = lm.tokenizer.encode(rendered).expect("encode");
    let g = lm.generate(&ids, &opts).expect("generate");
    (g.tokens, g.first_logits.expect("first logits"))
}

#[test]
fn smollm2_reencoded_weights_give_the_as_stored_greedy_tokens() {
    let Some(path) = gguf() else { return };
    let r = reference();
    // Two prompts of each chat style (the as-stored and q8_0 models take seconds each).
    let items: Vec<&Item> = ["study-0", "study-1", "dspy-0", "dspy-1"]
        .iter()
        .map(|id| r.items.iter().find(|i| i.id == *id).expect(id))
        .collect();
    let mut stored = load(&path, WeightFormat::AsStored);
    let want: Vec<(Vec<u32>, Vec<f32>)> = items
        .iter()
        .map(|it| greedy(&mut stored, &it.rendered))
        .collect();
    drop(stored);
    let mut report = String::new();
    for w in [WeightFormat::F32, WeightFormat::Q8_0] {
        let mut lm = load(&path, w);
        let (mut first, mut all, mut max_diff) = (0, 0, 0f32);
        for (it, (tokens, logits)) in items.iter().zip(&want) {
            let (got, got_logits) = greedy(&mut lm, &it.rendered);
            first += usize::from(got.first() == tokens.first());
            all += usize::from(&got == tokens);
            // The as-stored top-20 logits (what the llama.cpp parity compares).
            let mut top: Vec<usize> = (0..logits.len()).collect();
            top.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
            for &i in &top[..20] {
                max_diff = max_diff.max((got_logits[i] - logits[i]).abs());
            }
        }
        let n = items.len();
        report.push_str(&format!(
            "{w}: first token {first}/{n}, all 10 tokens {all}/{n}, top-20 logits max abs diff \
             {max_diff:.4}\n"
        ));
        assert_eq!(first, n, "{w}: the first greedy token differs:\n{report}");
        assert!(
            all + 1 >= n,
            "{w}: greedy tokens differ on {} prompts:\n{report}",
            n - all
        );
        assert!(max_diff < 1.0, "{w}: logits moved by {max_diff}:\n{report}");
    }
    eprintln!("{report}");
}

#[test]
fn smollm2_f32_weights_agree_with_llama_cpp() {
    let Some(path) = gguf() else { return };
    let mut lm = load(&path, WeightFormat::F32);
    let (mut n, mut first, mut all, mut max_diff) = (0, 0, 0, 0f64);
    let mut mismatches = Vec::new();
    for it in &reference().items {
        let (Some(want), Some(top)) = (&it.llama_cpp_greedy, &it.llama_cpp_top_logits) else {
            continue;
        };
        let (got, logits) = greedy(&mut lm, &it.rendered);
        for &(id, l) in top {
            max_diff = max_diff.max((logits[id as usize] as f64 - l).abs());
        }
        n += 1;
        if got.first() == want.first() {
            first += 1;
        } else {
            mismatches.push(format!("{}: ours {got:?} llama.cpp {want:?}", it.id));
        }
        all += usize::from(&got == want);
    }
    let report = format!(
        "f32 vs llama.cpp: first token {first}/{n}, all 10 tokens {all}/{n}, top-20 logits max \
         abs diff {max_diff:.4}; mismatches {mismatches:?}"
    );
    eprintln!("{report}");
    assert!(n >= 20, "reference.json has {n} llama.cpp generations");
    // The as-stored test's bar (candle_smollm2.rs): at most one first token differs.
    assert!(first + 1 >= n, "{report}");
}

#[test]
fn smollm2_model_info_says_how_the_weights_ran() {
    let Some(path) = gguf() else { return };
    let d = CausalLm::load(&path, CausalLmOptions::default())
        .unwrap_or_else(|e| panic!("{e:#}"))
        .info()
        .description;
    // This file: 61 F32 norms, 210 Q4_1 matrices and the Q8_0 embedding.
    let want = "tensors 61 F32 + 210 Q4_1 + 1 Q8_0; weights re-encoded at load: 210 Q4_1 + 1 \
                Q8_0 -> F32";
    assert!(d.contains(want), "{d}");
    let stored = CausalLmOptions {
        weights: WeightFormat::AsStored,
        ..Default::default()
    };
    let d = CausalLm::load(&path, stored)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .info()
        .description;
    assert!(
        d.contains("weights as stored") && !d.contains("re-encoded"),
        "{d}"
    );
}
