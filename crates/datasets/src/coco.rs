//! COCO annotation files: `instances_*.json` (boxes, for object detection) and
//! `captions_*.json` (references, for captioning). One example per image of the JSON's
//! `images` list, in its order, the image id as the example id. Every image file is
//! decode-checked; one that is missing is an error (or, with `missing_images = "skip"`,
//! left out and counted).

use super::images::decode_check;
use super::spec::DatasetSpec;
use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::{Example, Gold, GoldBox, Input};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Instances,
    Captions,
}

/// The image folder: `image_dir`, else `<json's folder>/../<last _ part of the file stem>`
/// (`annotations/instances_val2017.json` -> `val2017/`).
fn image_dir(json: &Path, spec: &DatasetSpec) -> Result<PathBuf> {
    if let Some(d) = &spec.image_dir {
        if !d.is_dir() {
            bail!("dataset key `image_dir`: {} is not a folder", d.display());
        }
        return Ok(d.clone());
    }
    let stem = json.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let guess = stem.rsplit_once('_').map(|(_, split)| {
        let dir = json.parent().unwrap_or(Path::new("."));
        dir.parent().unwrap_or(dir).join(split)
    });
    match guess {
        Some(d) if d.is_dir() => Ok(d),
        Some(d) => bail!(
            "{}: the images are not in {} (the default beside the annotations folder); set \
             `image_dir`",
            json.display(),
            d.display()
        ),
        None => bail!(
            "{}: cannot tell where the images are from the file name; set `image_dir`",
            json.display()
        ),
    }
}

fn id_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn load(
    json: &Path,
    kind: Kind,
    spec: &DatasetSpec,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<PathBuf> {
    let name = json.display().to_string();
    let bytes = std::fs::read(json).with_context(|| format!("cannot read {name}"))?;
    let root: Value = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!("{name}: not valid JSON (a COCO annotation file expected): {e}")
    })?;
    let what = match kind {
        Kind::Instances => "instances",
        Kind::Captions => "captions",
    };
    let array = |key: &str| -> Result<&Vec<Value>> {
        root.get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow::anyhow!("{name}: no `{key}` array: not a COCO {what} file"))
    };
    let images = array("images")?;
    let annotations = array("annotations")?;
    let mut categories: HashMap<i64, String> = HashMap::new();
    if kind == Kind::Instances {
        for (i, c) in array("categories")?.iter().enumerate() {
            let (Some(id), Some(n)) = (id_of(c.get("id")), c.get("name").and_then(Value::as_str))
            else {
                bail!("{name}: categories[{i}]: needs an integer `id` and a `name`");
            };
            categories.insert(id, n.to_string());
        }
    }
    let skip_missing = spec.skip_missing_images()?;
    let dir = image_dir(json, spec)?;

    // Images, in the file's order.
    let mut order: Vec<(i64, PathBuf)> = Vec::new();
    let mut present: HashMap<i64, bool> = HashMap::new();
    for (i, img) in images.iter().enumerate() {
        let (Some(id), Some(file)) = (
            id_of(img.get("id")),
            img.get("file_name").and_then(Value::as_str),
        ) else {
            bail!("{name}: images[{i}]: needs an integer `id` and a `file_name`");
        };
        if present.contains_key(&id) {
            bail!("{name}: images[{i}]: image id {id} is listed twice");
        }
        let path = dir.join(file);
        let exists = path.is_file();
        if !exists {
            if !skip_missing {
                bail!(
                    "{name}: image id {id} (file_name {file:?}): {} does not exist; set \
                     `missing_images = \"skip\"` to leave out images that are not on disk",
                    path.display()
                );
            }
            report.skip("image file missing");
        }
        present.insert(id, exists);
        if exists {
            order.push((id, path));
        }
    }

    // Annotations by image.
    let mut boxes: BTreeMap<i64, Vec<GoldBox>> = BTreeMap::new();
    let mut captions: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (i, a) in annotations.iter().enumerate() {
        let ann_id = id_of(a.get("id")).map_or_else(
            || format!("annotations[{i}]"),
            |id| format!("annotation id {id} (annotations[{i}])"),
        );
        let at = format!("{name}: {ann_id}");
        let Some(image_id) = id_of(a.get("image_id")) else {
            bail!("{at}: no integer `image_id`");
        };
        match present.get(&image_id) {
            None => bail!("{at}: image id {image_id} is not in `images`"),
            Some(false) => {
                report.tally("annotations of missing images, left out");
                continue;
            }
            Some(true) => {}
        }
        match kind {
            Kind::Instances => {
                let Some(cat) = id_of(a.get("category_id")) else {
                    bail!("{at}: no integer `category_id`");
                };
                let Some(category) = categories.get(&cat) else {
                    bail!("{at}: category id {cat} is not in `categories`");
                };
                let bbox: Vec<f64> = match a.get("bbox").and_then(Value::as_array) {
                    Some(v) => v.iter().filter_map(Value::as_f64).collect(),
                    None => Vec::new(),
                };
                let [x, y, w, h] = bbox[..] else {
                    bail!("{at}: `bbox` must be four numbers [x, y, width, height]");
                };
                if !(w >= 0.0
                    && h >= 0.0
                    && x.is_finite()
                    && y.is_finite()
                    && w.is_finite()
                    && h.is_finite())
                {
                    bail!("{at}: `bbox` {bbox:?} has a negative or non-finite size");
                }
                let area = match a.get("area") {
                    Some(v) => v
                        .as_f64()
                        .ok_or_else(|| anyhow::anyhow!("{at}: `area` is not a number"))?,
                    None => bail!("{at}: no `area`"),
                };
                let iscrowd = match a.get("iscrowd") {
                    None => false,
                    Some(v) => match v.as_i64() {
                        Some(0) => false,
                        Some(1) => true,
                        _ => match v.as_bool() {
                            Some(b) => b,
                            None => bail!("{at}: `iscrowd` must be 0 or 1"),
                        },
                    },
                };
                boxes.entry(image_id).or_default().push(GoldBox {
                    category: category.clone(),
                    bbox: [x, y, w, h],
                    area,
                    iscrowd,
                });
            }
            Kind::Captions => {
                let Some(c) = a.get("caption").and_then(Value::as_str) else {
                    bail!("{at}: no `caption` string");
                };
                if c.trim().is_empty() {
                    report.skip("empty caption");
                    continue;
                }
                captions
                    .entry(image_id)
                    .or_default()
                    .push(c.trim().to_string());
            }
        }
    }

    for (id, path) in order {
        let gold = match kind {
            Kind::Instances => Gold::Boxes(boxes.remove(&id).unwrap_or_default()),
            Kind::Captions => match captions.remove(&id) {
                Some(c) => Gold::References(c),
                None => {
                    report.skip("image without captions");
                    continue;
                }
            },
        };
        decode_check(&path).with_context(|| format!("{name}: image id {id}"))?;
        out.push(Example {
            id: id.to_string(),
            input: Input::Image(path),
            label: None,
            gold: Some(gold),
        });
    }
    Ok(dir)
}
