//! Image files: the decode check every image passes before it becomes an input (JPEG and PNG,
//! the codecs the shipped datasets need), and image folders (`<root>/<class>/<file>`).

use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::{Example, Input};
use std::path::{Path, PathBuf};

/// Extensions an image file may have.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Decode `path` fully (not just its header), so a truncated or corrupt file is found at
/// load time, naming the file, rather than in the middle of a measured run.
pub fn decode_check(path: &Path) -> Result<(u32, u32)> {
    let reader = image::ImageReader::open(path)
        .with_context(|| format!("image {}: cannot open it", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("image {}: cannot read it", path.display()))?;
    if reader.format().is_none() {
        bail!(
            "image {}: does not decode: not a JPEG or PNG file",
            path.display()
        );
    }
    let img = reader
        .decode()
        .map_err(|e| anyhow::anyhow!("image {}: does not decode: {e}", path.display()))?;
    Ok((img.width(), img.height()))
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
        let p = e.path();
        if !is_hidden(&p) {
            v.push(p);
        }
    }
    v.sort();
    Ok(v)
}

/// `<root>/<class>/<image>`: one example per image, the label its folder's name, the id
/// `class/file`. Files directly in `root` (a README) are ignored and counted; anything in a
/// class folder that is not a JPEG/PNG file is an error naming it.
pub(crate) fn load_image_folder(
    root: &Path,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<Vec<PathBuf>> {
    let mut classes = Vec::new();
    for p in sorted_entries(root)? {
        if p.is_dir() {
            classes.push(p);
        } else {
            report.tally("files beside the class folders, ignored");
        }
    }
    if classes.is_empty() {
        bail!(
            "{}: no class sub-folders (an image folder is <root>/<class>/<image>; set `split` \
             or `path` to the folder that holds the class folders)",
            root.display()
        );
    }
    for class_dir in &classes {
        let label = class_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let before = out.len();
        for file in sorted_entries(class_dir)? {
            let ext = file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if file.is_dir() || !ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str())) {
                bail!(
                    "{}: not an image file (expected .jpg, .jpeg or .png in the class folder {})",
                    file.display(),
                    class_dir.display()
                );
            }
            decode_check(&file)?;
            let short = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(Example {
                id: format!("{label}/{short}"),
                input: Input::Image(file),
                label: Some(label.clone()),
                gold: None,
            });
        }
        if out.len() == before {
            bail!("{}: an empty class folder", class_dir.display());
        }
    }
    Ok(classes)
}
