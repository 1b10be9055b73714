//! Object detection: COCO mAP@[.5:.95] and mAP@.5 as `pycocotools` 2.0.8 computes them
//! (`COCOeval(gt, dt, "bbox")`, `stats[0]` and `stats[1]`), re-implemented step by step:
//!
//! - **IoU** of boxes `[x, y, w, h]` as `maskApi.c`'s `bbIou`: intersection over union, or over
//!   the detection's area when the gold box is a crowd region; 0 when the boxes do not overlap.
//! - **Per image and category** (`evaluateImg`, area range "all" = `[0, 1e10]`, maxDets 100):
//!   gold boxes that are crowd, or whose `area` is outside `[0, 1e10]`, are *ignored*, and put
//!   after the others; detections are sorted by score, highest first (stable: ties keep the
//!   detections' order) and only the first 100 are kept. For each IoU threshold
//!   `.50, .55, ..., .95` each detection in turn takes the unmatched gold box of highest IoU
//!   at least the threshold (a crowd box can be taken any number of times; a detection that could
//!   match a regular box never moves on to an ignored one). A detection matched to an ignored
//!   box, or unmatched with an area `w * h` outside `[0, 1e10]`, is ignored.
//! - **Per category** (`accumulate`): the images' detections are merged and sorted by score
//!   (stable: ties are broken by the order of the examples, as pycocotools breaks them by
//!   image id, then by the order within the image); cumulative true and false positives give
//!   recall `tp / n_gold` and precision `tp / (tp + fp + eps)`; precision is made monotone from
//!   the right; at each of the 101 recall thresholds `0, .01, ..., 1` the precision is read at
//!   the first detection whose recall reaches it (`searchsorted`), 0 past the last one.
//! - **Mean** over the categories that have at least one gold box that is not ignored (others
//!   are pycocotools' -1 and left out: a category that is only predicted costs nothing), and
//!   over the IoU thresholds (mAP) or at .5 only (mAP@.5); summed in numpy's pairwise order
//!   so the last bit agrees too.
//!
//! Categories are matched by name, exactly (the detection's label against the gold box's
//! category); detections of a label that no gold box has are left out. When no category has a
//! gold box that counts, pycocotools reports -1: here there is no metric ([`coco_map`] gives
//! `None`).

use crate::{Detection, Example, Gold, GoldBox, Output, TaskName};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// `score_task` for object detection: `map` and `map_50`. Gold must be [`Gold::Boxes`] on
/// every example (none on every example: an unlabelled sample, no metric); outputs
/// [`Output::Detections`], an [`Output::Unparsed`] answer counting as no detection. Any other
/// shape, a gold box or detection with a non-finite number, is an error naming the example.
/// No metric either when no category has a gold box that counts (pycocotools' -1).
pub(crate) fn score_detection(
    task: TaskName,
    pairs: &[(&Example, &Output)],
) -> Result<Vec<(String, f64)>> {
    if pairs.iter().all(|(e, _)| e.gold.is_none()) {
        return Ok(Vec::new());
    }
    let mut images: Vec<ImageBoxes> = Vec::with_capacity(pairs.len());
    for (e, o) in pairs {
        let gold: &[GoldBox] = match &e.gold {
            Some(Gold::Boxes(b)) => b,
            Some(other) => bail!(
                "example {}: the gold of a {task} example is {}, not boxes",
                e.id,
                gold_shape(other)
            ),
            None => bail!(
                "example {}: no gold boxes, while other examples of the sample have them",
                e.id
            ),
        };
        let dets: &[Detection] = match o {
            Output::Detections(d) => d,
            Output::Unparsed(_) => &[],
            other => bail!(
                "example {}: a {task} backend answered {}, not detections",
                e.id,
                super::shape(other)
            ),
        };
        images.push((e.id.as_str(), gold, dets));
    }
    Ok(match coco_map(&images)? {
        Some(s) => vec![("map".into(), s.map), ("map_50".into(), s.map_50)],
        None => Vec::new(),
    })
}

/// IoU thresholds, as `np.linspace(.5, .95, 10)` gives them (0.8999999999999999 included).
pub const IOU_THRESHOLDS: [f64; 10] = [
    0.5,
    0.55,
    0.6,
    0.65,
    0.7,
    0.75,
    0.8,
    0.85,
    0.8999999999999999,
    0.95,
];
/// Number of recall thresholds (`np.linspace(0, 1, 101)`, which is `i * 0.01` exactly).
const RECALL_POINTS: usize = 101;
/// Detections kept per image and category.
pub const MAX_DETECTIONS: usize = 100;
/// Area range "all": `[0 ** 2, 1e5 ** 2]`.
const AREA_MAX: f64 = 1e10;

/// mAP@[.5:.95] and mAP@.5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CocoScores {
    pub map: f64,
    pub map_50: f64,
}

/// One image: its id (for errors), its gold boxes, its detections.
pub type ImageBoxes<'a> = (&'a str, &'a [GoldBox], &'a [Detection]);

/// COCO mAP of the images. An error names the image of a non-finite box, area or score;
/// `None` when no category has a gold box that is not ignored (pycocotools' -1).
pub fn coco_map(images: &[ImageBoxes]) -> Result<Option<CocoScores>> {
    for (id, gold, dets) in images {
        validate(id, gold, dets)?;
    }
    let mut categories: BTreeMap<&str, ()> = BTreeMap::new();
    for (_, gold, _) in images {
        for g in gold.iter() {
            categories.insert(g.category.as_str(), ());
        }
    }
    // precision[k][t][r] for the categories that count, in name order
    let mut precision: Vec<Vec<[f64; RECALL_POINTS]>> = Vec::new();
    for cat in categories.keys() {
        let evals: Vec<ImageEval> = images
            .iter()
            .filter_map(|(_, gold, dets)| evaluate_image(cat, gold, dets))
            .collect();
        if let Some(p) = accumulate(&evals) {
            precision.push(p);
        }
    }
    if precision.is_empty() {
        return Ok(None);
    }
    // numpy: s[s > -1] of shape (T, R, K) flattened in C order, then mean
    let k = precision.len();
    let mut all = Vec::with_capacity(IOU_THRESHOLDS.len() * RECALL_POINTS * k);
    let mut at_50 = Vec::with_capacity(RECALL_POINTS * k);
    for t in 0..IOU_THRESHOLDS.len() {
        for r in 0..RECALL_POINTS {
            for p in &precision {
                all.push(p[t][r]);
                if t == 0 {
                    at_50.push(p[t][r]);
                }
            }
        }
    }
    Ok(Some(CocoScores {
        map: numpy_mean(&all),
        map_50: numpy_mean(&at_50),
    }))
}

/// The shape of a gold answer, for errors.
pub(crate) fn gold_shape(g: &Gold) -> &'static str {
    match g {
        Gold::Answers(_) => "answers",
        Gold::Word(_) => "a word",
        Gold::Tags(_) => "tags",
        Gold::References(_) => "references",
        Gold::Boxes(_) => "boxes",
    }
}

/// Finite numbers only (pycocotools has no answer for NaN); named by image and position.
pub fn validate(id: &str, gold: &[GoldBox], dets: &[Detection]) -> Result<()> {
    for (i, g) in gold.iter().enumerate() {
        if !g.bbox.iter().all(|v| v.is_finite()) || !g.area.is_finite() {
            bail!(
                "example {id}: gold box {i} ({}) has a non-finite bbox or area",
                g.category
            );
        }
    }
    for (i, d) in dets.iter().enumerate() {
        if !d.bbox.iter().all(|v| v.is_finite()) || !d.score.is_finite() {
            bail!(
                "example {id}: detection {i} ({}) has a non-finite bbox or score",
                d.label
            );
        }
    }
    Ok(())
}

/// `maskApi.c` `bbIou` for one pair.
pub fn bbox_iou(d: &[f64; 4], g: &[f64; 4], crowd: bool) -> f64 {
    let da = d[2] * d[3];
    let ga = g[2] * g[3];
    let w = (d[2] + d[0]).min(g[2] + g[0]) - d[0].max(g[0]);
    if w <= 0.0 {
        return 0.0;
    }
    let h = (d[3] + d[1]).min(g[3] + g[1]) - d[1].max(g[1]);
    if h <= 0.0 {
        return 0.0;
    }
    let i = w * h;
    let u = if crowd { da } else { da + ga - i };
    let o = i / u;
    // u > 0 whenever w, h > 0 with finite inputs; guard the overflow corner (inf / inf)
    if o.is_finite() {
        o
    } else {
        0.0
    }
}

/// `evaluateImg` output for one image and category.
struct ImageEval {
    /// Scores of the kept detections, highest first.
    scores: Vec<f64>,
    /// `matched[t][d]`, `ignored[t][d]`.
    matched: Vec<Vec<bool>>,
    ignored: Vec<Vec<bool>>,
    /// Gold boxes not ignored.
    n_gold: usize,
}

fn evaluate_image(cat: &str, gold: &[GoldBox], dets: &[Detection]) -> Option<ImageEval> {
    let gt: Vec<&GoldBox> = gold.iter().filter(|g| g.category == cat).collect();
    let mut dt: Vec<&Detection> = dets.iter().filter(|d| d.label == cat).collect();
    if gt.is_empty() && dt.is_empty() {
        return None;
    }
    let ignore = |g: &GoldBox| g.iscrowd || g.area < 0.0 || g.area > AREA_MAX;
    // gold: not ignored first (stable); detections: highest score first (stable), top 100
    let mut gt_sorted: Vec<&GoldBox> = gt.iter().copied().filter(|g| !ignore(g)).collect();
    let n_gold = gt_sorted.len();
    gt_sorted.extend(gt.iter().copied().filter(|g| ignore(g)));
    let gt = gt_sorted;
    dt.sort_by(|a, b| b.score.total_cmp(&a.score));
    dt.truncate(MAX_DETECTIONS);
    let gt_ignored: Vec<bool> = gt.iter().map(|g| ignore(g)).collect();
    let ious: Vec<Vec<f64>> = dt
        .iter()
        .map(|d| {
            gt.iter()
                .map(|g| bbox_iou(&d.bbox, &g.bbox, g.iscrowd))
                .collect()
        })
        .collect();
    let mut matched = vec![vec![false; dt.len()]; IOU_THRESHOLDS.len()];
    let mut ignored = vec![vec![false; dt.len()]; IOU_THRESHOLDS.len()];
    for (t, &thr) in IOU_THRESHOLDS.iter().enumerate() {
        let mut gt_taken = vec![false; gt.len()];
        for (di, d) in dt.iter().enumerate() {
            let mut iou = thr.min(1.0 - 1e-10);
            let mut m: Option<usize> = None;
            for (gi, g) in gt.iter().enumerate() {
                if gt_taken[gi] && !g.iscrowd {
                    continue;
                }
                if let Some(mi) = m {
                    if !gt_ignored[mi] && gt_ignored[gi] {
                        break;
                    }
                }
                if ious[di][gi] < iou {
                    continue;
                }
                iou = ious[di][gi];
                m = Some(gi);
            }
            match m {
                Some(mi) => {
                    ignored[t][di] = gt_ignored[mi];
                    matched[t][di] = true;
                    gt_taken[mi] = true;
                }
                None => {
                    let area = d.bbox[2] * d.bbox[3];
                    ignored[t][di] = !(0.0..=AREA_MAX).contains(&area);
                }
            }
        }
    }
    Some(ImageEval {
        scores: dt.iter().map(|d| d.score).collect(),
        matched,
        ignored,
        n_gold,
    })
}

/// `accumulate` for one category: precision at the recall thresholds per IoU threshold, or
/// `None` when the category has no gold box that counts (pycocotools' -1).
fn accumulate(evals: &[ImageEval]) -> Option<Vec<[f64; RECALL_POINTS]>> {
    if evals.is_empty() {
        return None;
    }
    let npig: usize = evals.iter().map(|e| e.n_gold).sum();
    if npig == 0 {
        return None;
    }
    // (image, detection) in concatenation order, then a stable sort by score, highest first
    let mut order: Vec<(usize, usize)> = evals
        .iter()
        .enumerate()
        .flat_map(|(i, e)| (0..e.scores.len()).map(move |d| (i, d)))
        .collect();
    order.sort_by(|a, b| evals[b.0].scores[b.1].total_cmp(&evals[a.0].scores[a.1]));
    let npig = npig as f64;
    let eps = f64::EPSILON; // np.spacing(1)
    let mut out = Vec::with_capacity(IOU_THRESHOLDS.len());
    for t in 0..IOU_THRESHOLDS.len() {
        let (mut tp, mut fp) = (0u64, 0u64);
        let mut rc = Vec::with_capacity(order.len());
        let mut pr = Vec::with_capacity(order.len());
        for &(i, d) in &order {
            if !evals[i].ignored[t][d] {
                if evals[i].matched[t][d] {
                    tp += 1;
                } else {
                    fp += 1;
                }
            }
            let (tpf, fpf) = (tp as f64, fp as f64);
            rc.push(tpf / npig);
            pr.push(tpf / (fpf + tpf + eps));
        }
        for i in (1..pr.len()).rev() {
            if pr[i] > pr[i - 1] {
                pr[i - 1] = pr[i];
            }
        }
        let mut q = [0.0; RECALL_POINTS];
        for (ri, qv) in q.iter_mut().enumerate() {
            let thr = if ri == RECALL_POINTS - 1 {
                1.0
            } else {
                ri as f64 * 0.01
            };
            // searchsorted(rc, thr, side='left'): first index with rc >= thr
            let pi = rc.partition_point(|&v| v < thr);
            if pi >= pr.len() {
                break;
            }
            *qv = pr[pi];
        }
        out.push(q);
    }
    Some(out)
}

/// `np.mean` of a contiguous float64 array: numpy's pairwise sum divided by the count.
pub fn numpy_mean(a: &[f64]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    pairwise_sum(a) / a.len() as f64
}

/// numpy's `pairwise_sum_DOUBLE` (blocks of 128, 8 accumulators, halves rounded to 8).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(c: &str, b: [f64; 4]) -> GoldBox {
        GoldBox {
            category: c.into(),
            bbox: b,
            area: b[2] * b[3],
            iscrowd: false,
        }
    }
    fn d(c: &str, s: f64, b: [f64; 4]) -> Detection {
        Detection {
            label: c.into(),
            score: s,
            bbox: b,
        }
    }

    #[test]
    fn iou_as_bbiou() {
        let a = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(bbox_iou(&a, &a, false), 1.0);
        assert_eq!(bbox_iou(&[5.0, 0.0, 10.0, 10.0], &a, false), 50.0 / 150.0);
        // crowd: over the detection's area
        assert_eq!(bbox_iou(&[0.0, 0.0, 5.0, 5.0], &a, true), 1.0);
        assert_eq!(bbox_iou(&[10.0, 0.0, 10.0, 10.0], &a, false), 0.0);
        assert_eq!(bbox_iou(&[0.0, 0.0, -5.0, 10.0], &a, false), 0.0);
        assert_eq!(bbox_iou(&[0.0, 0.0, 0.0, 10.0], &a, false), 0.0);
    }

    #[test]
    fn perfect_detection_is_one_and_no_gold_is_none() {
        let gold = [g("cat", [0.0, 0.0, 10.0, 10.0])];
        let dets = [d("cat", 0.5, [0.0, 0.0, 10.0, 10.0])];
        let s = coco_map(&[("a", &gold, &dets)]).unwrap().unwrap();
        // precision is tp / (tp + fp + eps), so "1" is 1 / (1 + eps) as in pycocotools
        assert!(1.0 - s.map < 1e-15 && 1.0 - s.map_50 < 1e-15, "{s:?}");
        assert_eq!(coco_map(&[("a", &[], &dets)]).unwrap(), None);
        assert_eq!(coco_map(&[]).unwrap(), None);
    }

    #[test]
    fn non_finite_values_are_errors_naming_the_image() {
        let gold = [g("cat", [0.0, 0.0, 10.0, 10.0])];
        let dets = [d("cat", f64::NAN, [0.0, 0.0, 10.0, 10.0])];
        let e = coco_map(&[("img-9", &gold, &dets)]).unwrap_err();
        assert!(e.to_string().contains("example img-9"), "{e}");
    }

    #[test]
    fn pairwise_sum_matches_a_plain_sum_on_integers() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 20200] {
            let a: Vec<f64> = (0..n).map(|i| (i % 13) as f64).collect();
            assert_eq!(pairwise_sum(&a), a.iter().sum::<f64>(), "n={n}");
        }
    }
}

/// The numbers of `testdata/metrics/coco_vision_references.json` (pycocotools 2.0.8), every
/// case through [`score_task`](super::score_task), compared bit for bit.
#[cfg(test)]
mod reference {
    use super::*;
    use crate::{Example, Input};
    use serde_json::Value;

    fn load() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/metrics/coco_vision_references.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).expect("json")
    }

    fn f(v: &Value) -> f64 {
        v.as_f64().expect("number")
    }

    fn bx(v: &Value) -> [f64; 4] {
        let a = v.as_array().expect("bbox");
        [f(&a[0]), f(&a[1]), f(&a[2]), f(&a[3])]
    }

    pub(super) fn case(c: &Value) -> (Vec<Example>, Vec<Output>) {
        let mut ex = Vec::new();
        let mut out = Vec::new();
        for im in c["images"].as_array().expect("images") {
            let gold = im["gold"]
                .as_array()
                .expect("gold")
                .iter()
                .map(|b| GoldBox {
                    category: b["category"].as_str().expect("category").into(),
                    bbox: bx(&b["bbox"]),
                    area: f(&b["area"]),
                    iscrowd: b["iscrowd"].as_bool().expect("iscrowd"),
                })
                .collect();
            let dets = im["detections"]
                .as_array()
                .expect("detections")
                .iter()
                .map(|d| Detection {
                    label: d["label"].as_str().expect("label").into(),
                    score: f(&d["score"]),
                    bbox: bx(&d["bbox"]),
                })
                .collect();
            ex.push(Example {
                id: im["id"].as_str().expect("id").into(),
                input: Input::Image("x.jpg".into()),
                label: None,
                gold: Some(Gold::Boxes(gold)),
            });
            out.push(Output::Detections(dets));
        }
        (ex, out)
    }

    fn expected(v: &Value) -> Option<f64> {
        if v.is_null() {
            None
        } else {
            Some(f64::from_bits(v["bits"].as_u64().expect("bits")))
        }
    }

    #[test]
    fn coco_map_equals_pycocotools_bit_for_bit_on_every_reference_case() {
        let data = load();
        let cases = data["cases"].as_array().expect("cases");
        assert!(cases.len() >= 50, "{}", cases.len());
        let mut failures = Vec::new();
        for c in cases {
            let name = c["name"].as_str().expect("name");
            let (ex, out) = case(c);
            let pairs: Vec<(&Example, &Output)> = ex.iter().zip(out.iter()).collect();
            let got = super::super::score_task(TaskName::ObjectDetection, &pairs).expect(name);
            let want: Vec<(String, f64)> = match (expected(&c["map"]), expected(&c["map_50"])) {
                (Some(m), Some(m50)) => vec![("map".into(), m), ("map_50".into(), m50)],
                _ => Vec::new(),
            };
            let same = got.len() == want.len()
                && got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits());
            if !same {
                failures.push(format!("{name}: got {got:?}, pycocotools {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
