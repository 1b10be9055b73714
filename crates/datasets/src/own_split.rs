//! Datasets that come with their own train and test files (most published benchmarks): the two
//! parts are joined into one example list, and the split is the files', never drawn again.

use crate::{LoadReport, LoadedDataset, Split};

/// Join a dataset's own parts. The test examples keep their ids (so predictions name the rows
/// of the test file); training ids get a `train:` prefix, so the two files' row numbers never
/// collide. The label set is the test part's, then any label only the training part has.
pub fn join_own_split(train: Option<LoadedDataset>, test: LoadedDataset) -> (LoadedDataset, Split) {
    let Some(mut train) = train else {
        let split = Split {
            train: Vec::new(),
            test: (0..test.examples.len()).collect(),
            seed: 0,
        };
        return (test, split);
    };
    for e in &mut train.examples {
        e.id = format!("train:{}", e.id);
    }
    let n_train = train.examples.len();
    let n_test = test.examples.len();
    let mut labels = test.labels.clone();
    for l in &train.labels {
        if !labels.contains(l) {
            labels.push(l.clone());
        }
    }
    let report = merge_reports(train.report, test.report);
    let mut examples = train.examples;
    examples.extend(test.examples);
    let split = Split {
        train: (0..n_train).collect(),
        test: (n_train..n_train + n_test).collect(),
        seed: 0,
    };
    (
        LoadedDataset {
            examples,
            labels,
            report,
        },
        split,
    )
}

/// One report for both parts: files in order (train first), counts added.
fn merge_reports(a: LoadReport, b: LoadReport) -> LoadReport {
    let mut undecodable_at = a.undecodable_at;
    undecodable_at.extend(b.undecodable_at);
    undecodable_at.truncate(crate::MAX_LOCATIONS);
    let mut files = a.files;
    files.extend(b.files);
    let add = |mut x: std::collections::BTreeMap<String, usize>,
               y: std::collections::BTreeMap<String, usize>| {
        for (k, n) in y {
            *x.entry(k).or_default() += n;
        }
        x
    };
    LoadReport {
        files,
        format: if a.format == b.format { a.format } else { None },
        encoding: if a.encoding == b.encoding {
            a.encoding
        } else {
            format!("{} (train), {} (test)", a.encoding, b.encoding)
        },
        rows: a.rows + b.rows,
        undecodable_lines: a.undecodable_lines + b.undecodable_lines,
        undecodable_at,
        skipped_empty: a.skipped_empty + b.skipped_empty,
        header_lines: a.header_lines + b.header_lines,
        label_names_from_file: a.label_names_from_file.or(b.label_names_from_file),
        skipped_for: add(a.skipped_for, b.skipped_for),
        tallies: add(a.tallies, b.tallies),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use powerhungry_tasks::{Example, Input};

    fn part(rows: &[(&str, &str)]) -> LoadedDataset {
        let examples: Vec<Example> = rows
            .iter()
            .enumerate()
            .map(|(i, (t, l))| Example {
                id: i.to_string(),
                input: Input::Text(t.to_string()),
                label: Some(l.to_string()),
                gold: None,
            })
            .collect();
        let mut labels: Vec<String> = examples.iter().filter_map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        LoadedDataset {
            labels,
            report: LoadReport {
                rows: examples.len(),
                ..LoadReport::default()
            },
            examples,
        }
    }

    #[test]
    fn the_parts_are_kept_apart_and_ids_never_collide() {
        let train = part(&[("a", "x"), ("b", "y"), ("c", "z")]);
        let test = part(&[("d", "y"), ("e", "x")]);
        let (joined, split) = join_own_split(Some(train), test);
        assert_eq!(split.train, vec![0, 1, 2]);
        assert_eq!(split.test, vec![3, 4]);
        let ids: Vec<&str> = joined.examples.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["train:0", "train:1", "train:2", "0", "1"]);
        // The test part's labels first, then those only the training part has.
        assert_eq!(joined.labels, ["x", "y", "z"]);
        assert_eq!(joined.report.rows, 5);
    }

    #[test]
    fn a_test_part_alone_is_all_test() {
        let (joined, split) = join_own_split(None, part(&[("d", "y"), ("e", "x")]));
        assert!(split.train.is_empty());
        assert_eq!(split.test, vec![0, 1]);
        assert_eq!(joined.examples[0].id, "0");
    }
}
