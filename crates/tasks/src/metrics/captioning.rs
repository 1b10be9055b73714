//! `score_task` for image captioning: `bleu4` and `cider_d` as pycocoevalcap 1.2's
//! `COCOEvalCap` computes them (PTB tokenisation of references and captions, then `Bleu(4)`
//! and `Cider()`), see [`ptb_tokenize`](super::ptb_tokenize), [`bleu`](super::bleu),
//! [`cider_d`](super::cider_d).

use super::coco_map::gold_shape;
use super::{bleu, cider_d, ptb_tokenize, shape};
use crate::{Example, Gold, Output, TaskName};
use anyhow::{bail, Result};

/// Gold must be [`Gold::References`] (at least one) on every example (none on every example:
/// unlabelled, no metric); outputs [`Output::Text`], an [`Output::Unparsed`] answer counting
/// as an empty caption (it scores 0, its references still count). Other shapes are errors
/// naming the example.
pub(crate) fn score_captions(
    task: TaskName,
    pairs: &[(&Example, &Output)],
) -> Result<Vec<(String, f64)>> {
    if pairs.iter().all(|(e, _)| e.gold.is_none()) {
        return Ok(Vec::new());
    }
    let mut hyps = Vec::with_capacity(pairs.len());
    let mut refs = Vec::with_capacity(pairs.len());
    for (e, o) in pairs {
        let r = match &e.gold {
            Some(Gold::References(r)) if !r.is_empty() => r,
            Some(Gold::References(_)) => bail!("example {}: no reference caption", e.id),
            Some(other) => bail!(
                "example {}: the gold of a {task} example is {}, not references",
                e.id,
                gold_shape(other)
            ),
            None => bail!(
                "example {}: no reference captions, while other examples of the sample have them",
                e.id
            ),
        };
        let hyp = match o {
            Output::Text(t) => ptb_tokenize(t),
            Output::Unparsed(_) => Vec::new(),
            other => bail!(
                "example {}: a {task} backend answered {}, not a text",
                e.id,
                shape(other)
            ),
        };
        hyps.push(hyp);
        refs.push(r.iter().map(|s| ptb_tokenize(s)).collect::<Vec<_>>());
    }
    let b = bleu(&hyps, &refs)[3];
    let c = cider_d(&hyps, &refs);
    Ok(vec![
        ("bleu4".into(), if b.is_finite() { b } else { 0.0 }),
        ("cider_d".into(), if c.is_finite() { c } else { 0.0 }),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::score_task;
    use crate::{Detection, Example, Gold, GoldBox, Input, Output, TaskName};

    fn ex(id: &str, gold: Option<Gold>) -> Example {
        Example {
            id: id.into(),
            input: Input::Image("x.jpg".into()),
            label: None,
            gold,
        }
    }

    #[test]
    fn caption_shapes_unparsed_and_unlabelled() {
        let refs = || Some(Gold::References(vec!["a dog on a couch".into()]));
        let (a, b) = (ex("0", refs()), ex("1", refs()));
        let (ta, ub) = (Output::Text("a dog".into()), Output::Unparsed("??".into()));
        let s = score_task(TaskName::ImageCaptioning, &[(&a, &ta), (&b, &ub)]).expect("ok");
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["bleu4", "cider_d", "unparsed_fraction"]);
        assert!(s.iter().all(|(_, v)| v.is_finite()));
        let lab = Output::Label("dog".into());
        let e = score_task(TaskName::ImageCaptioning, &[(&a, &ta), (&b, &lab)]).unwrap_err();
        assert!(
            e.to_string().contains("example 1") && e.to_string().contains("a label"),
            "{e}"
        );
        let c = ex("2", Some(Gold::Word("dog".into())));
        let e = score_task(TaskName::ImageCaptioning, &[(&c, &ta)]).unwrap_err();
        assert!(e.to_string().contains("example 2"), "{e}");
        let d = ex("3", Some(Gold::References(vec![])));
        let e = score_task(TaskName::ImageCaptioning, &[(&d, &ta)]).unwrap_err();
        assert!(e.to_string().contains("example 3"), "{e}");
        let n = ex("4", None);
        assert!(score_task(TaskName::ImageCaptioning, &[(&n, &ta)])
            .expect("ok")
            .is_empty());
        let e = score_task(TaskName::ImageCaptioning, &[(&a, &ta), (&n, &ta)]).unwrap_err();
        assert!(e.to_string().contains("example 4"), "{e}");
    }

    /// A small deterministic generator (no dev-dependency): arbitrary inputs, finite outputs.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[(self.next() as usize) % xs.len()]
        }
    }

    #[test]
    fn arbitrary_boxes_and_captions_never_panic_nor_give_nan() {
        let mut r = Lcg(8);
        let vals = [
            0.0, -0.0, 1.0, -5.0, 10.0, 1e-300, 1e10, 1e154, 1e308, -1e308, 3.5, 100.0,
        ];
        let words = [
            "a",
            "dog",
            "",
            "...",
            "!",
            "(",
            "'s",
            "n't",
            "é",
            "\u{2026}",
            "--",
            "U.S.",
            "\u{1F600}",
            "can't",
        ];
        for _ in 0..300 {
            let n = (r.next() % 4) as usize;
            let mut ex = Vec::new();
            let mut det = Vec::new();
            let mut cap_ex = Vec::new();
            let mut caps = Vec::new();
            for i in 0..n {
                let gold: Vec<GoldBox> = (0..r.next() % 4)
                    .map(|_| GoldBox {
                        category: r.pick(&["a", "b"]).into(),
                        bbox: [r.pick(&vals), r.pick(&vals), r.pick(&vals), r.pick(&vals)],
                        area: r.pick(&vals),
                        iscrowd: r.next().is_multiple_of(3),
                    })
                    .collect();
                let dets: Vec<Detection> = (0..r.next() % 5)
                    .map(|_| Detection {
                        label: r.pick(&["a", "b", "c"]).into(),
                        score: r.pick(&vals),
                        bbox: [r.pick(&vals), r.pick(&vals), r.pick(&vals), r.pick(&vals)],
                    })
                    .collect();
                ex.push(ex_(&i.to_string(), Some(Gold::Boxes(gold))));
                det.push(Output::Detections(dets));
                let refs: Vec<String> = (0..1 + r.next() % 3)
                    .map(|_| sentence(&mut r, &words))
                    .collect();
                let cap = sentence(&mut r, &words);
                cap_ex.push(ex_(&i.to_string(), Some(Gold::References(refs))));
                caps.push(Output::Text(cap));
            }
            let pairs: Vec<(&Example, &Output)> = ex.iter().zip(det.iter()).collect();
            for (_, v) in score_task(TaskName::ObjectDetection, &pairs).expect("detection") {
                assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{v}");
            }
            let pairs: Vec<(&Example, &Output)> = cap_ex.iter().zip(caps.iter()).collect();
            for (_, v) in score_task(TaskName::ImageCaptioning, &pairs).expect("captions") {
                assert!(v.is_finite() && v >= 0.0, "{v}");
            }
        }
    }

    fn sentence(r: &mut Lcg, words: &[&str]) -> String {
        let n = r.next() % 6;
        (0..n).map(|_| r.pick(words)).collect::<Vec<_>>().join(" ")
    }

    fn ex_(id: &str, gold: Option<Gold>) -> Example {
        ex(id, gold)
    }

    #[test]
    fn detection_shapes_unparsed_and_unlabelled() {
        let gold = || {
            Some(Gold::Boxes(vec![GoldBox {
                category: "dog".into(),
                bbox: [0.0, 0.0, 10.0, 10.0],
                area: 100.0,
                iscrowd: false,
            }]))
        };
        let (a, b) = (ex("0", gold()), ex("1", gold()));
        let det = Output::Detections(vec![Detection {
            label: "dog".into(),
            score: 0.9,
            bbox: [0.0, 0.0, 10.0, 10.0],
        }]);
        let un = Output::Unparsed("no idea".into());
        let s = score_task(TaskName::ObjectDetection, &[(&a, &det), (&b, &un)]).expect("ok");
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["map", "map_50", "unparsed_fraction"]);
        // one of two boxes found, first: precision 1 up to recall .5, then 0
        assert!((s[1].1 - 51.0 / 101.0).abs() < 1e-12, "{s:?}");
        let txt = Output::Text("dog".into());
        let e = score_task(TaskName::ObjectDetection, &[(&a, &txt)]).unwrap_err();
        assert!(
            e.to_string().contains("example 0") && e.to_string().contains("a text"),
            "{e}"
        );
        let c = ex("2", Some(Gold::References(vec!["x".into()])));
        let e = score_task(TaskName::ObjectDetection, &[(&c, &det)]).unwrap_err();
        assert!(e.to_string().contains("example 2") && e.to_string().contains("references"));
        let n = ex("3", None);
        assert!(score_task(TaskName::ObjectDetection, &[(&n, &det)])
            .expect("ok")
            .is_empty());
        let nan = Output::Detections(vec![Detection {
            label: "dog".into(),
            score: 0.5,
            bbox: [0.0, f64::INFINITY, 1.0, 1.0],
        }]);
        let e = score_task(TaskName::ObjectDetection, &[(&a, &nan)]).unwrap_err();
        assert!(e.to_string().contains("example 0"), "{e}");
    }
}

/// The numbers of `testdata/metrics/caption_references.json` (pycocoevalcap 1.2 with its
/// Java PTBTokenizer), every case through `score_task`.
#[cfg(test)]
mod reference {
    use super::*;
    use crate::Input;
    use serde_json::Value;

    #[test]
    fn bleu4_and_cider_d_equal_pycocoevalcap_on_every_reference_case() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/metrics/caption_references.json"
        );
        let data: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("file")).expect("json");
        let cases = data["cases"].as_array().expect("cases");
        assert!(cases.len() >= 25, "{}", cases.len());
        let mut bad = Vec::new();
        let mut worst = 0.0f64;
        for c in cases {
            let name = c["name"].as_str().expect("name");
            let mut ex = Vec::new();
            let mut out = Vec::new();
            for im in c["images"].as_array().expect("images") {
                let refs = im["references"]
                    .as_array()
                    .expect("refs")
                    .iter()
                    .map(|r| r.as_str().expect("ref").to_string())
                    .collect();
                ex.push(Example {
                    id: im["id"].as_str().expect("id").into(),
                    input: Input::Image("x.jpg".into()),
                    label: None,
                    gold: Some(Gold::References(refs)),
                });
                out.push(Output::Text(
                    im["caption"].as_str().expect("caption").into(),
                ));
            }
            let pairs: Vec<(&Example, &Output)> = ex.iter().zip(out.iter()).collect();
            let got = super::super::score_task(TaskName::ImageCaptioning, &pairs).expect(name);
            for (metric, (gname, value)) in ["bleu4", "cider_d"].iter().zip(&got) {
                assert_eq!(metric, gname);
                let want = f64::from_bits(c[*metric]["bits"].as_u64().expect("bits"));
                let diff = (value - want).abs() / want.abs().max(1e-300);
                if value.to_bits() != want.to_bits() {
                    worst = worst.max(diff);
                }
                if value.to_bits() != want.to_bits() {
                    bad.push(format!(
                        "{name} {metric}: got {value:e}, pycocoevalcap {want:e}"
                    ));
                }
            }
        }
        eprintln!("largest relative difference from pycocoevalcap: {worst:e}");
        // equal bit for bit today (same libm pow/exp/log as CPython and numpy on x86-64)
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
