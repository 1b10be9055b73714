//! Directories: label folders (files or sub-folders named by label) and folders of data
//! shards (Hugging Face `data/test-00000-of-00001.parquet`).

use super::decode::TextDecoder;
use super::spec::Format;
use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::{Example, Input};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files a label folder never treats as data: dotfiles, READMEs, licenses, Markdown.
fn ignored(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.starts_with('.')
        || name.starts_with("readme")
        || name.starts_with("license")
        || name.starts_with("licence")
        || name.ends_with(".md")
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if !ignored(&entry.path()) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Sub-directories mean one text per file; otherwise one text per line.
pub(crate) fn detect_label_layout(root: &Path) -> Result<Format> {
    if entries(root)?.iter().any(|p| p.is_dir()) {
        Ok(Format::LabelDirs)
    } else {
        Ok(Format::LabelFiles)
    }
}

/// The label files (or label directories) of a folder, sorted.
pub(crate) fn list_labels(root: &Path, format: Format) -> Result<Vec<PathBuf>> {
    let want_dirs = format == Format::LabelDirs;
    let found: Vec<PathBuf> = entries(root)?
        .into_iter()
        .filter(|p| p.is_dir() == want_dirs)
        .collect();
    if found.is_empty() {
        bail!(
            "{}: no label {} found (a label folder holds one {} per label)",
            root.display(),
            if want_dirs { "sub-folders" } else { "files" },
            if want_dirs {
                "sub-folder of one-text files"
            } else {
                "file of one text per line"
            }
        );
    }
    Ok(found)
}

/// The label a file names: its extension when all files share one stem (`rt-polarity.pos`,
/// `rt-polarity.neg`), otherwise its stem (`pos.txt`, `neg.txt`).
fn file_labels(files: &[PathBuf]) -> Result<Vec<String>> {
    let stem = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned());
    let ext = |p: &PathBuf| p.extension().map(|s| s.to_string_lossy().into_owned());
    let shared_stem = files.len() > 1
        && files.iter().all(|p| ext(p).is_some())
        && files.iter().all(|p| stem(p) == stem(&files[0]));
    let labels: Vec<String> = files
        .iter()
        .map(|p| if shared_stem { ext(p) } else { stem(p) }.unwrap_or_default())
        .collect();
    let mut seen = BTreeMap::new();
    for (l, p) in labels.iter().zip(files) {
        if let Some(prev) = seen.insert(l.clone(), p) {
            bail!(
                "{} and {} both name the label {l:?}; a label folder needs one file per label",
                prev.display(),
                p.display()
            );
        }
    }
    Ok(labels)
}

pub(crate) fn load_label_files(
    files: &[PathBuf],
    decoder: &TextDecoder,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    for (file, label) in files.iter().zip(file_labels(files)?) {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let decoded = decoder.decode(&bytes);
        report.note_encoding(decoded.encoding);
        for line in &decoded.bad_lines {
            report.note_undecodable(file, *line);
        }
        let short = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (i, line) in decoded.text.lines().enumerate() {
            if line.trim().is_empty() {
                report.skipped_empty += 1;
                continue;
            }
            out.push(Example {
                id: format!("{short}:{}", i + 1),
                input: Input::Text(line.to_string()),
                label: Some(label.clone()),
                gold: None,
            });
        }
    }
    Ok(())
}

pub(crate) fn load_label_dirs(
    dirs: &[PathBuf],
    decoder: &TextDecoder,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    for dir in dirs {
        let label = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for file in entries(dir)?.into_iter().filter(|p| p.is_file()) {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let decoded = decoder.decode(&bytes);
            report.note_encoding(decoded.encoding);
            for line in &decoded.bad_lines {
                report.note_undecodable(&file, *line);
            }
            let text = decoded.text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                report.skipped_empty += 1;
                continue;
            }
            let short = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(Example {
                id: format!("{label}/{short}"),
                input: Input::Text(text.to_string()),
                label: Some(label.clone()),
                gold: None,
            });
        }
    }
    Ok(())
}

/// Data files (csv/tsv/jsonl/parquet, or `format`'s) under `root`, up to four levels deep,
/// narrowed to `split`. `None` when the folder holds no data files (a label folder).
pub(crate) fn data_files(
    root: &Path,
    format: Option<Format>,
    split: Option<&str>,
) -> Result<Option<(Format, Vec<PathBuf>)>> {
    let mut found = Vec::new();
    walk(root, 0, &mut found)?;
    found.retain(|p| match (format, Format::for_extension(p)) {
        (Some(f), Some(g)) => f == g,
        (None, g) => g.is_some(),
        (Some(_), None) => false,
    });
    if found.is_empty() {
        return Ok(None);
    }
    let all = found.clone();
    if let Some(split) = split {
        found.retain(|p| in_split(root, p, split));
        if found.is_empty() {
            bail!(
                "{}: no data file belongs to split {split:?} (dataset key `split`); found: {}",
                root.display(),
                list(root, &all)
            );
        }
    } else {
        let groups: std::collections::BTreeSet<String> =
            found.iter().map(|p| shard_group(root, p)).collect();
        if groups.len() > 1 {
            bail!(
                "{}: several data files that are not shards of one split; set `split` (found: {})",
                root.display(),
                list(root, &found)
            );
        }
    }
    let formats: std::collections::BTreeSet<&str> = found
        .iter()
        .filter_map(|p| Format::for_extension(p).map(Format::name))
        .collect();
    if formats.len() > 1 {
        bail!(
            "{}: the selected files mix formats ({}); set `format`",
            root.display(),
            formats.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let fmt = format.or_else(|| Format::for_extension(&found[0]));
    Ok(fmt.map(|f| (f, found)))
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in entries(dir)? {
        if p.is_dir() && depth < 4 {
            walk(&p, depth + 1, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

fn list(root: &Path, files: &[PathBuf]) -> String {
    let names: Vec<String> = files
        .iter()
        .take(10)
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect();
    names.join(", ")
}

/// A file is in `split` when a folder on its path is named `split`, or its name is `split`
/// followed by `.`, `-` or `_` (`test.csv`, `test-00000-of-00002.parquet`).
fn in_split(root: &Path, path: &Path, split: &str) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let comps: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let Some((name, dirs)) = comps.split_last() else {
        return false;
    };
    dirs.iter().any(|d| d == split)
        || name
            .strip_prefix(split)
            .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
}

/// Shards of one split share everything but the `-NNNNN-of-NNNNN` part (and their folder).
fn shard_group(root: &Path, path: &Path) -> String {
    let rel = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    match rel.find("-of-") {
        Some(i) => rel[..i]
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string(),
        None => match rel.rfind('/') {
            // `<split>/0000.parquet` (the hub's parquet conversion): the folder is the group.
            Some(i)
                if rel[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit()) =>
            {
                rel[..i].to_string()
            }
            _ => rel,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_membership() {
        let r = Path::new("/d");
        assert!(in_split(
            r,
            Path::new("/d/data/test-00000-of-00001.parquet"),
            "test"
        ));
        assert!(in_split(r, Path::new("/d/test.csv"), "test"));
        assert!(in_split(
            r,
            Path::new("/d/plain_text/test/0000.parquet"),
            "test"
        ));
        assert!(!in_split(r, Path::new("/d/data/testing.csv"), "test"));
        assert!(!in_split(
            r,
            Path::new("/d/data/train-00000-of-00001.parquet"),
            "test"
        ));
    }

    #[test]
    fn shards_group_together() {
        let r = Path::new("/d");
        let a = shard_group(r, Path::new("/d/data/train-00000-of-00002.parquet"));
        let b = shard_group(r, Path::new("/d/data/train-00001-of-00002.parquet"));
        let c = shard_group(r, Path::new("/d/data/test-00000-of-00001.parquet"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn label_names_from_file_names() {
        let f = |v: &[&str]| file_labels(&v.iter().map(PathBuf::from).collect::<Vec<_>>());
        assert_eq!(
            f(&["d/rt-polarity.neg", "d/rt-polarity.pos"]).unwrap(),
            ["neg", "pos"]
        );
        assert_eq!(f(&["d/neg.txt", "d/pos.txt"]).unwrap(), ["neg", "pos"]);
        assert!(f(&["a/x.pos", "b/x.pos"]).is_err());
    }
}
