//! The text metrics against the numbers their reference packages compute on the same inputs
//! (`testdata/metrics/text_cases.json` -> `make_text_references.py` ->
//! `text_references.json`, `porter_reference.tsv`). Every number must agree exactly (same
//! float operations in the same order); the tests say where they do not.

use super::*;
use crate::{Entity, Example, Gold, Input, Output, TaskName};
use proptest::prelude::*;
use serde_json::Value;

const CASES: &str = include_str!("../../testdata/metrics/text_cases.json");
const REFS: &str = include_str!("../../testdata/metrics/text_references.json");
const PORTER: &str = include_str!("../../testdata/metrics/porter_reference.tsv");

fn load() -> (Value, Value) {
    (
        serde_json::from_str(CASES).expect("text_cases.json"),
        serde_json::from_str(REFS).expect("text_references.json"),
    )
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn sentences(v: &Value) -> Vec<Vec<String>> {
    v.as_array().expect("sentences").iter().map(strs).collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn entities_of(v: &Value) -> Vec<(String, usize, usize)> {
    v.as_array()
        .expect("entities")
        .iter()
        .map(|e| {
            (
                e[0].as_str().expect("type").to_string(),
                e[1].as_u64().expect("start") as usize,
                e[2].as_u64().expect("end") as usize,
            )
        })
        .collect()
}

fn metric(scores: &[(String, f64)], name: &str) -> f64 {
    scores
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {scores:?}"))
        .1
}

fn example(id: &str, input: Input, gold: Gold) -> Example {
    Example {
        id: id.into(),
        input,
        label: None,
        gold: Some(gold),
    }
}

#[test]
fn squad_v1_matches_the_official_script() {
    let (cases, refs) = load();
    let cases = cases["squad"].as_array().expect("squad");
    let want = &refs["squad_v1"];
    let mut examples = Vec::new();
    let mut outputs = Vec::new();
    for (c, r) in cases.iter().zip(want["cases"].as_array().expect("cases")) {
        let id = c["id"].as_str().expect("id");
        let golds = strs(&c["answers"]);
        match c["prediction"].as_str() {
            Some(p) => {
                assert_eq!(
                    normalize_answer(p),
                    r["normalized_prediction"].as_str().expect("norm"),
                    "{id}"
                );
                let (em, f1) = qa_scores(p, &golds);
                assert_eq!(em, num(&r["exact_match"]), "{id} exact match");
                assert_eq!(f1, num(&r["f1"]), "{id} f1");
                outputs.push(Output::Answer {
                    text: p.into(),
                    start: None,
                    end: None,
                });
            }
            None => outputs.push(Output::Unparsed("no answer".into())),
        }
        examples.push(example(
            id,
            Input::QuestionContext {
                question: "q".into(),
                context: "c".into(),
            },
            Gold::Answers(golds),
        ));
    }
    let pairs: Vec<(&Example, &Output)> = examples.iter().zip(&outputs).collect();
    let s = score_task(TaskName::ExtractiveQa, &pairs).expect("scores");
    assert_eq!(metric(&s, "exact_match"), num(&want["exact_match"]));
    assert_eq!(metric(&s, "f1"), num(&want["f1"]));
    assert_eq!(metric(&s, "unparsed_fraction"), 1.0 / cases.len() as f64);
}

#[test]
fn seqeval_sets_match_seqeval() {
    let (cases, refs) = load();
    let sets = cases["seqeval"]["sets"].as_array().expect("sets");
    for (c, r) in sets
        .iter()
        .zip(refs["seqeval"]["sets"].as_array().expect("sets"))
    {
        let name = c["name"].as_str().expect("name");
        let (gold, pred) = (sentences(&c["gold"]), sentences(&c["pred"]));
        assert_eq!(
            get_entities(&gold),
            entities_of(&r["gold_entities"]),
            "{name}"
        );
        assert_eq!(
            get_entities(&pred),
            entities_of(&r["pred_entities"]),
            "{name}"
        );
        let s = seqeval_scores(&gold, &pred).expect("scores");
        assert_eq!(s.precision, num(&r["precision"]), "{name} precision");
        assert_eq!(s.recall, num(&r["recall"]), "{name} recall");
        assert_eq!(s.f1, num(&r["f1"]), "{name} f1");
    }
}

#[test]
fn iob1_converts_to_what_seqeval_reads_in_iob1() {
    let (cases, refs) = load();
    let iob1 = cases["seqeval"]["iob1"].as_array().expect("iob1");
    for (c, r) in iob1
        .iter()
        .zip(refs["seqeval"]["iob1"].as_array().expect("iob1"))
    {
        let name = c["name"].as_str().expect("name");
        let raw = strs(&c["tags"]);
        let converted = iob1_to_iob2(&raw);
        assert_eq!(converted, strs(&r["iob2"]), "{name}");
        let want = entities_of(&r["entities"]);
        assert_eq!(get_entities(&[converted]), want, "{name}");
        assert_eq!(get_entities(&[raw]), want, "{name}: default mode on IOB1");
    }
}

#[test]
fn predicted_entities_score_as_seqeval_scores_their_tags() {
    let (cases, refs) = load();
    let ents = cases["seqeval"]["entities"].as_array().expect("entities");
    let want = &refs["seqeval"];
    let mut examples = Vec::new();
    let mut outputs = Vec::new();
    for (c, r) in ents
        .iter()
        .zip(want["entities"].as_array().expect("entities"))
    {
        let name = c["name"].as_str().expect("name");
        let tokens = strs(&c["tokens"]);
        let output = match c["entities"].as_array() {
            Some(list) => Output::Entities(
                list.iter()
                    .map(|e| Entity {
                        label: e["label"].as_str().expect("label").into(),
                        start: e["start"].as_u64().expect("start") as usize,
                        end: e["end"].as_u64().expect("end") as usize,
                    })
                    .collect(),
            ),
            None => Output::Unparsed("?".into()),
        };
        if let Output::Entities(list) = &output {
            let tags = entities_to_tags(&tokens, list);
            assert_eq!(tags, strs(&r["tags"]), "{name}");
            let s = seqeval_scores(&[strs(&c["gold"])], &[tags]).expect("scores");
            assert_eq!(s.f1, num(&r["f1"]), "{name}");
        }
        examples.push(example(
            name,
            Input::Tokens(tokens),
            Gold::Tags(strs(&c["gold"])),
        ));
        outputs.push(output);
    }
    let pairs: Vec<(&Example, &Output)> = examples.iter().zip(&outputs).collect();
    let s = score_task(TaskName::TokenClassification, &pairs).expect("scores");
    let all = &want["entities_all"];
    assert_eq!(metric(&s, "entity_precision"), num(&all["precision"]));
    assert_eq!(metric(&s, "entity_recall"), num(&all["recall"]));
    assert_eq!(metric(&s, "entity_f1"), num(&all["f1"]));
}

#[test]
fn rouge_matches_rouge_score() {
    let (cases, refs) = load();
    let cases = cases["rouge"].as_array().expect("rouge");
    let want = &refs["rouge"];
    let mut examples = Vec::new();
    let mut outputs = Vec::new();
    for (c, r) in cases.iter().zip(want["cases"].as_array().expect("cases")) {
        let id = c["id"].as_str().expect("id");
        let references = strs(&c["references"]);
        match c["prediction"].as_str() {
            Some(p) => {
                assert_eq!(rouge_tokenize(p), strs(&r["prediction_tokens"]), "{id}");
                let s = rouge_multi(&references, p);
                assert_eq!(s.rouge1, num(&r["rouge1"]), "{id} rouge1");
                assert_eq!(s.rouge2, num(&r["rouge2"]), "{id} rouge2");
                assert_eq!(s.rouge_l, num(&r["rougeL"]), "{id} rougeL");
                outputs.push(Output::Text(p.into()));
            }
            None => outputs.push(Output::Unparsed(String::new())),
        }
        examples.push(example(
            id,
            Input::Text("document".into()),
            Gold::References(references),
        ));
    }
    let pairs: Vec<(&Example, &Output)> = examples.iter().zip(&outputs).collect();
    let s = score_task(TaskName::Summarization, &pairs).expect("scores");
    for k in ["rouge1", "rouge2", "rougeL"] {
        assert_eq!(metric(&s, k), num(&want[k]), "{k}");
    }
}

#[test]
fn porter_matches_nltk_on_every_word_of_samsum_and_xsum() {
    let mut n = 0;
    let mut wrong = Vec::new();
    for line in PORTER.lines() {
        let (word, stem) = line.split_once('\t').expect("word<TAB>stem");
        if porter_stem(word) != stem {
            wrong.push(format!("{word}: nltk {stem}, ours {}", porter_stem(word)));
        }
        n += 1;
    }
    assert!(n > 20_000, "{n} words");
    assert!(wrong.is_empty(), "{} of {n} differ: {wrong:?}", wrong.len());
}

#[test]
fn fill_mask_through_score_task() {
    let ex = |id: &str, w: &str| {
        example(
            id,
            Input::Masked {
                words: vec!["a".into(), w.into()],
                masked: 1,
            },
            Gold::Word(w.into()),
        )
    };
    let words = |s: &str| Output::Words(s.split(' ').map(String::from).collect());
    let examples = [
        ex("0", "Paris,"),
        ex("1", "the"),
        ex("2", "games"),
        ex("3", "x"),
    ];
    let outputs = [
        words("Ġparis Ġlondon"),
        words("a an his her the"),
        words("▁matches ▁game ▁games"),
        Output::Unparsed("?".into()),
    ];
    let pairs: Vec<(&Example, &Output)> = examples.iter().zip(&outputs).collect();
    let s = score_task(TaskName::MaskedLanguageModelling, &pairs).expect("scores");
    assert_eq!(metric(&s, "top1_accuracy"), 0.25);
    assert_eq!(metric(&s, "top5_accuracy"), 0.75);
    assert_eq!(metric(&s, "unparsed_fraction"), 0.25);
}

#[test]
fn wrong_shapes_are_errors_naming_the_example() {
    let qa = example(
        "q7",
        Input::QuestionContext {
            question: "q".into(),
            context: "c".into(),
        },
        Gold::Answers(vec!["x".into()]),
    );
    let text = Output::Text("x".into());
    let e = score_task(TaskName::ExtractiveQa, &[(&qa, &text)]).unwrap_err();
    assert!(e.to_string().contains("example q7") && e.to_string().contains("a text"));
    let no_gold = example("q8", qa.input.clone(), Gold::Answers(vec![]));
    let ans = Output::Answer {
        text: "x".into(),
        start: None,
        end: None,
    };
    let e = score_task(TaskName::ExtractiveQa, &[(&no_gold, &ans)]).unwrap_err();
    assert!(e.to_string().contains("example q8"), "{e}");

    let tok = example("t1", Input::Tokens(vec!["a".into()]), Gold::Tags(vec![]));
    let ents = Output::Entities(vec![]);
    let e = score_task(TaskName::TokenClassification, &[(&tok, &ents)]).unwrap_err();
    assert!(e.to_string().contains("example t1"), "{e}");
    let e = score_task(TaskName::TokenClassification, &[(&tok, &text)]).unwrap_err();
    assert!(e.to_string().contains("example t1"), "{e}");

    let sum = example("s1", Input::Text("d".into()), Gold::Word("w".into()));
    let e = score_task(TaskName::Summarization, &[(&sum, &text)]).unwrap_err();
    assert!(e.to_string().contains("example s1"), "{e}");
    let mlm = example("m1", Input::Text("d".into()), Gold::Word("w".into()));
    let e = score_task(TaskName::MaskedLanguageModelling, &[(&mlm, &text)]).unwrap_err();
    assert!(e.to_string().contains("example m1") && e.to_string().contains("a text"));

    // Without gold (an unlabelled sample) there is nothing to score.
    let mut bare = sum.clone();
    bare.gold = None;
    let s = score_task(TaskName::Summarization, &[(&bare, &text)]).expect("ok");
    assert!(s.is_empty());
}

fn in_unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

proptest! {
    #[test]
    fn squad_scores_are_fractions(p in "\\PC{0,30}", g in proptest::collection::vec("\\PC{0,30}", 0..4)) {
        let (em, f1) = qa_scores(&p, &g);
        prop_assert!(in_unit(em) && in_unit(f1));
    }

    #[test]
    fn rouge_scores_are_fractions(p in "\\PC{0,60}", r in proptest::collection::vec("\\PC{0,60}", 0..3)) {
        let s = rouge_multi(&r, &p);
        prop_assert!(in_unit(s.rouge1) && in_unit(s.rouge2) && in_unit(s.rouge_l));
    }

    #[test]
    fn porter_never_panics(w in "\\PC{0,20}", a in "[a-z*y]{0,12}") {
        let _ = porter_stem(&w);
        let _ = porter_stem(&a);
    }

    #[test]
    fn seqeval_scores_are_fractions(
        tags in proptest::collection::vec(
            proptest::collection::vec(("[BIESO.X]?", "(-[A-C]{0,2})?", "[BIO]", "[A-C]"), 0..8),
            0..4,
        ),
    ) {
        let gold: Vec<Vec<String>> = tags.iter()
            .map(|s| s.iter().map(|(p, t, _, _)| format!("{p}{t}")).collect()).collect();
        let pred: Vec<Vec<String>> = tags.iter()
            .map(|s| s.iter().map(|(_, _, p, t)| if p == "O" { "O".into() } else { format!("{p}-{t}") }).collect())
            .collect();
        let s = seqeval_scores(&gold, &pred).expect("same shapes");
        prop_assert!(in_unit(s.precision) && in_unit(s.recall) && in_unit(s.f1));
        for sentence in &gold {
            let conv = iob1_to_iob2(sentence);
            prop_assert_eq!(conv.len(), sentence.len());
        }
    }

    #[test]
    fn iob1_and_its_conversion_give_the_same_entities(
        tags in proptest::collection::vec(
            proptest::collection::vec(prop_oneof!["O", "I-[A-B]", "B-[A-B]"], 0..10),
            0..3,
        ),
    ) {
        let converted: Vec<Vec<String>> = tags.iter().map(|s| iob1_to_iob2(s)).collect();
        prop_assert_eq!(get_entities(&tags), get_entities(&converted));
        // The conversion is IOB2: no I-X without an X before it.
        for s in &converted {
            for (i, t) in s.iter().enumerate() {
                if let Some(ty) = t.strip_prefix("I-") {
                    prop_assert!(i > 0 && s[i - 1].get(2..) == Some(ty), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn entities_to_tags_never_panics(
        tokens in proptest::collection::vec("\\PC{0,6}", 0..6),
        spans in proptest::collection::vec((0usize..50, 0usize..50, "[A-Z]{0,3}"), 0..5),
    ) {
        let ents: Vec<Entity> = spans.into_iter()
            .map(|(start, end, label)| Entity { label, start, end }).collect();
        let tags = entities_to_tags(&tokens, &ents);
        prop_assert_eq!(tags.len(), tokens.len());
    }

    #[test]
    fn fill_mask_normalisation_never_panics(w in "\\PC{0,12}") {
        let n = normalize_word(&w);
        prop_assert_eq!(normalize_word(&n).is_empty(), n.is_empty());
    }
}
