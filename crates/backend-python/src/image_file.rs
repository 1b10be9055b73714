//! The files of generated images: where each goes (a name from the run, the repetition, the
//! position and the example id), and what the harness checks of a file the worker says it
//! wrote (a PNG of the answered size) before hashing it.

use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::PredictionScope;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// Longest file-safe part kept of a name or an example id.
const SAFE_MAX: usize = 64;

/// `name` with every character outside `[A-Za-z0-9._-]` as `_`, no leading dot (no hidden
/// file, no `..`), cut to 64 characters; empty names become `_`.
pub fn file_safe(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(SAFE_MAX)
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

/// The folder of one (run, model, dataset): `<root>/run-<id>/<model>/<dataset>`.
pub fn scope_dir(root: &Path, scope: &PredictionScope) -> PathBuf {
    root.join(format!("run-{}", scope.run))
        .join(file_safe(&scope.model))
        .join(file_safe(&scope.dataset))
}

/// The file of the image at `position` of `scope`: `r<repetition>-<position>-<id>.png`, or
/// `r<repetition>-warmup-<position>-<id>.png` for the warm-up's. Positions make names unique
/// whatever the ids; a repetition run again (resume) writes the same names.
pub fn image_path(root: &Path, scope: &PredictionScope, position: usize, id: &str) -> PathBuf {
    let phase = if scope.warmup { "warmup-" } else { "" };
    scope_dir(root, scope).join(format!(
        "r{}-{phase}{position}-{}.png",
        scope.repetition,
        file_safe(id)
    ))
}

/// A PNG's width and height, read from its IHDR chunk; an error says what the file is not.
pub fn png_size(bytes: &[u8]) -> Result<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != PNG_SIGNATURE {
        bail!("not a PNG file (no PNG signature)");
    }
    if &bytes[12..16] != b"IHDR" {
        bail!("not a PNG file (its first chunk is not IHDR)");
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Ok((be(&bytes[16..20]), be(&bytes[20..24])))
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the worker said of one image, checked against the file: it exists at the path the
/// harness gave, is a PNG of the answered size (and of the size asked, when one was).
/// Returns the file's SHA-256.
pub fn check_image(
    path: &Path,
    answered: (u32, u32),
    asked: (Option<u32>, Option<u32>),
) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow!(
            "the worker answered an image at {}, which cannot be read: {e}",
            path.display()
        )
    })?;
    let (w, h) = png_size(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if (w, h) != answered {
        bail!(
            "{}: the worker answered a {}x{} image, the file is {w}x{h}",
            path.display(),
            answered.0,
            answered.1
        );
    }
    let (want_w, want_h) = asked;
    if want_w.is_some_and(|x| x != w) || want_h.is_some_and(|x| x != h) {
        bail!(
            "{}: the image is {w}x{h}, the suite asked for width {} and height {}",
            path.display(),
            want_w.map_or("(default)".into(), |x| x.to_string()),
            want_h.map_or("(default)".into(), |x| x.to_string())
        );
    }
    Ok(sha256_hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(warmup: bool) -> PredictionScope {
        PredictionScope {
            run: 3,
            model: "org/sd v1".into(),
            dataset: "parti-prompts".into(),
            repetition: 1,
            warmup,
        }
    }

    #[test]
    fn names_are_file_safe_and_unique_by_position() {
        assert_eq!(file_safe("PartiPrompts.tsv:12"), "PartiPrompts.tsv_12");
        assert_eq!(file_safe("../etc"), "_.._etc");
        assert_eq!(file_safe(""), "_");
        assert_eq!(file_safe(&"x".repeat(100)).len(), SAFE_MAX);
        let root = Path::new("/s.sqlite.images");
        assert_eq!(
            image_path(root, &scope(false), 7, "a/b"),
            Path::new("/s.sqlite.images/run-3/org_sd_v1/parti-prompts/r1-7-a_b.png")
        );
        assert_eq!(
            image_path(root, &scope(true), 0, "a"),
            Path::new("/s.sqlite.images/run-3/org_sd_v1/parti-prompts/r1-warmup-0-a.png")
        );
    }

    #[test]
    fn a_png_header_gives_its_size_and_anything_else_is_refused() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend([0, 0, 0, 13]);
        png.extend(b"IHDR");
        png.extend(32u32.to_be_bytes());
        png.extend(16u32.to_be_bytes());
        assert_eq!(png_size(&png).unwrap(), (32, 16));
        assert!(format!(
            "{}",
            png_size(b"GIF89a............................").unwrap_err()
        )
        .contains("no PNG signature"));
        let mut bad = png.clone();
        bad[12..16].copy_from_slice(b"IDAT");
        assert!(png_size(&bad).is_err());
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("i.png");
        std::fs::write(&p, &png).expect("write");
        assert_eq!(
            check_image(&p, (32, 16), (None, Some(16))).unwrap(),
            sha256_hex(&png)
        );
        let e = format!("{}", check_image(&p, (32, 32), (None, None)).unwrap_err());
        assert!(
            e.contains("answered a 32x32 image, the file is 32x16"),
            "{e}"
        );
        let e = format!(
            "{}",
            check_image(&p, (32, 16), (Some(64), None)).unwrap_err()
        );
        assert!(e.contains("asked for width 64"), "{e}");
        let e = format!(
            "{}",
            check_image(&dir.path().join("no.png"), (1, 1), (None, None)).unwrap_err()
        );
        assert!(e.contains("cannot be read"), "{e}");
    }
}
