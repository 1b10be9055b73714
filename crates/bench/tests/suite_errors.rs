//! Malformed suites: each mistake gives one clear error naming the file, the line and the key,
//! and saying what was expected. Nothing panics.

use powerhungry_bench::suite::{parse, LoadedSuite, SuiteError};

const GOOD: &str = r#"name = "s"

[protocol]
inferences = 100
repetitions = 3

[[models]]
name = "bow"
backend = "traditional"
kind = "bow-lr"

[[models]]
name = "tfidf"
backend = "traditional"
kind = "tfidf-char-lr"

[[datasets]]
name = "rt"
task = "text-classification"
[datasets.source]
path = "data/rt"
encoding = "latin-1"
"#;

/// `GOOD` with `from` replaced by `to` (which must occur exactly once).
fn bad(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?} must occur once");
    GOOD.replace(from, to)
}

fn error(text: &str) -> String {
    match parse(text, "suites/x.toml") {
        Ok(s) => panic!("expected an error, parsed {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_good_suite_parses_with_defaults() {
    let s = parse(GOOD, "suites/x.toml").expect("valid");
    assert_eq!(s.protocol.inferences, 100);
    assert_eq!(s.protocol.repetitions, 3);
    // Defaults: batch 1, warm-up 10, seed 42, half held out.
    assert_eq!(
        (s.protocol.batch_size, s.protocol.warmup, s.protocol.seed),
        (1, 10, 42)
    );
    assert_eq!(s.protocol.test_fraction, 0.5);
    assert_eq!(s.models.len(), 2);
    assert_eq!(
        s.datasets[0]
            .source
            .as_ref()
            .and_then(|d| d.encoding.as_deref()),
        Some("latin-1")
    );
}

#[test]
fn an_unknown_backend_names_line_key_and_choices() {
    let e = error(&bad(
        "name = \"tfidf\"\nbackend = \"traditional\"",
        "name = \"tfidf\"\nbackend = \"torch\"",
    ));
    assert!(
        e.starts_with("suites/x.toml: line 14: key `models[1].backend`: unknown variant `torch`"),
        "{e}"
    );
    assert!(e.contains("`traditional`") && e.contains("`candle`"), "{e}");
}

#[test]
fn an_unknown_kind_lists_the_backends_kinds() {
    let e = error(&bad("kind = \"tfidf-char-lr\"", "kind = \"tfidf-lr\""));
    assert_eq!(
        e,
        "suites/x.toml: line 15: key `models[1].kind`: \"tfidf-lr\" is not a kind of the traditional \
         backend; expected one of \"bow-lr\", \"tfidf-char-lr\", \"embedding-lr\", \"bow-xgb\", \
         \"tfidf-char-xgb\", \"embedding-xgb\""
    );
}

#[test]
fn unknown_keys_are_refused_everywhere() {
    let e = error(&bad("repetitions = 3", "repetitions = 3\nrepeats = 4"));
    assert!(e.starts_with("suites/x.toml: line 6: key `protocol.repeats`: unknown field `repeats`, expected one of"), "{e}");
    let e = error(&bad(
        "kind = \"bow-lr\"",
        "kind = \"bow-lr\"\nmodle = \"x\"",
    ));
    assert!(
        e.starts_with("suites/x.toml: line 11: key `models[0].modle`: unknown field `modle`"),
        "{e}"
    );
    let e = error(&bad(
        "encoding = \"latin-1\"",
        "encoding = \"latin-1\"\ncolumn = \"text\"",
    ));
    assert!(
        e.starts_with(
            "suites/x.toml: line 23: key `datasets[0].source.column`: unknown field `column`"
        ),
        "{e}"
    );
    let e = error(&format!("{GOOD}\n[location]\ncontry = \"FRA\"\n"));
    assert!(
        e.contains("key `location.contry`: unknown field `contry`"),
        "{e}"
    );
    let e = error(&format!("colour = \"red\"\n{GOOD}"));
    assert!(
        e.starts_with("suites/x.toml: line 1: key `colour`: unknown field `colour`"),
        "{e}"
    );
}

#[test]
fn numbers_out_of_range_or_of_the_wrong_type() {
    let e = error(&bad("inferences = 100", "inferences = 0"));
    assert_eq!(e, "suites/x.toml: line 4: key `protocol.inferences`: expected a whole number of at least 1, got 0");
    let e = error(&bad("repetitions = 3", "repetitions = \"ten\""));
    assert!(e.starts_with("suites/x.toml: line 5: key `protocol.repetitions`: invalid type: string \"ten\", expected u32"), "{e}");
    let e = error(&bad(
        "repetitions = 3",
        "repetitions = 3\ntest_fraction = 1.5",
    ));
    assert_eq!(e, "suites/x.toml: line 6: key `protocol.test_fraction`: expected a number strictly between 0 and 1, got 1.5");
    let e = error(&bad("inferences = 100", "inferences = -5"));
    assert!(e.contains("line 4: key `protocol.inferences`"), "{e}");
}

#[test]
fn missing_and_empty_required_parts() {
    let e = error(&bad("name = \"s\"\n", ""));
    assert!(
        e.starts_with("suites/x.toml: ") && e.contains("missing field `name`"),
        "{e}"
    );
    let e = error(&bad("name = \"s\"\n", "name = \" \"\n"));
    assert_eq!(
        e,
        "suites/x.toml: line 1: key `name`: expected a non-empty name"
    );
    let e = error("name = \"s\"\nmodels = []\ndatasets = []\n");
    assert_eq!(
        e,
        "suites/x.toml: line 2: key `models`: expected at least one [[models]] table"
    );
    let e = error(&bad("task = \"text-classification\"\n", ""));
    assert!(e.contains("key `datasets[0]`: missing field `task`"), "{e}");
    let e = error(&bad("path = \"data/rt\"\n", ""));
    assert_eq!(
        e,
        "suites/x.toml: line 20: key `datasets[0].source`: dataset: `path` or `hub_id` is required"
    );
}

#[test]
fn names_must_be_unique_and_references_must_exist() {
    let e = error(&bad("name = \"tfidf\"", "name = \"bow\""));
    assert_eq!(e, "suites/x.toml: line 13: key `models[1].name`: `bow` is already the name of models[0]; names must be unique");
    let e = error(&bad(
        "kind = \"bow-lr\"",
        "kind = \"bow-lr\"\ndatasets = [\"sst2\"]",
    ));
    assert_eq!(e, "suites/x.toml: line 11: key `models[0].datasets`: `sst2` is not the name of any [[datasets]] table");
    let e = error(&bad(
        "task = \"text-classification\"",
        "task = \"translation\"",
    ));
    assert!(e.starts_with("suites/x.toml: line 19: key `datasets[0].task`: unknown variant `translation`, expected one of `text-classification`, `extractive-qa`"), "{e}");
}

#[test]
fn toml_syntax_errors_say_where() {
    let e = error(&bad("kind = \"bow-lr\"", "kind = \"bow-lr"));
    assert!(e.starts_with("suites/x.toml: line 10: "), "{e}");
}

#[test]
fn a_missing_file_is_named() {
    let e = LoadedSuite::load(std::path::Path::new("/nonexistent/suite.toml")).unwrap_err();
    assert!(matches!(e, SuiteError::Io { .. }));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/suite.toml: cannot read the suite: "),
        "{e}"
    );
}

#[test]
fn a_model_asked_for_a_task_it_cannot_answer_is_refused_naming_both() {
    let e = error(&bad(
        "task = \"text-classification\"",
        "task = \"extractive-qa\"",
    ));
    assert!(
        e.contains("model `bow` on dataset `rt`") && e.contains("cannot answer extractive-qa"),
        "{e}"
    );
}

/// A served model with `concurrency = [..]` is one model per level, each with its own name and
/// options; a level the batch cannot hold is refused like a single one.
#[test]
fn a_concurrency_list_is_a_sweep_of_served_models() {
    let served = |batch: u32, levels: &str| {
        format!(
            "name = \"sweep\"\n[protocol]\ninferences = 16\nrepetitions = 1\nbatch_size = {batch}\n\
             [[models]]\nname = \"served\"\nbackend = \"openai\"\nkind = \"causal-lm\"\nmodel = \"smol\"\n\
             [models.options]\nbase_url = \"http://127.0.0.1:1/v1\"\nconcurrency = {levels}\n\
             [[datasets]]\nname = \"rt\"\ntask = \"text-classification\"\n[datasets.source]\n\
             path = \"data/rt\"\n"
        )
    };
    let s = parse(&served(16, "[1, 4, 16]"), "suites/sweep.toml").expect("a sweep parses");
    let names: Vec<&str> = s.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["served@c1", "served@c4", "served@c16"]);
    let levels: Vec<i64> = s
        .models
        .iter()
        .map(|m| {
            m.options["concurrency"]
                .as_integer()
                .expect("an integer level")
        })
        .collect();
    assert_eq!(levels, [1, 4, 16]);
    let e = error(&served(4, "[1, 16]"));
    assert!(e.contains("concurrency") && e.contains("batch_size"), "{e}");
    let e = error(&served(16, "[1, \"many\"]"));
    assert!(e.contains("concurrency"), "{e}");
}
