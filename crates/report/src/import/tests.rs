use super::*;
use crate::analysis::analyse;
use crate::codecarbon::read_file;
use crate::from_store::read_store;
use crate::rating::tests::{php_logs_dir, task_of_file};

/// Every Power Hungry Processing log imports, and each row's energy and emissions come back
/// out of the store and the report's analysis as CodeCarbon wrote them (checked against the
/// CSV parsed here independently of the CodeCarbon reader).
#[test]
fn power_hungry_processing_logs_import_exactly() {
    let Some(dir) = php_logs_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let store_path = tmp.path().join("php.sqlite");
    let mut store = Store::open(&store_path).unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut expected = Vec::new(); // (file, model, kWh, g) in file order
    let mut rows = 0;
    for path in &paths {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let file = read_file(path).unwrap();
        let opts = ImportOptions {
            task: task_of_file(&stem).unwrap().to_string(),
            dataset: stem.clone(),
            inferences: Some(1000),
            parameters: HashMap::new(),
            model_from: ModelFrom::Project,
            replace: false,
        };
        let sum = import_codecarbon(&mut store, &[file], &opts).unwrap();
        rows += sum.repetitions;
        let mut rdr = csv::Reader::from_path(path).unwrap();
        let h = rdr.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|x| x == n).unwrap();
        let (pc, ec, gc) = (
            col("project_name"),
            col("energy_consumed"),
            col("emissions"),
        );
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let kwh: f64 = rec[ec].parse().unwrap();
            let kg: f64 = rec[gc].parse().unwrap();
            expected.push((stem.clone(), rec[pc].to_string(), kwh, kg * 1000.0));
        }
    }
    assert_eq!(
        rows,
        4226 - 56,
        "one repetition per data row of the 56 files"
    );
    assert_eq!(expected.len(), rows);
    drop(store);

    let input = read_store(&store_path).unwrap();
    let mut got = Vec::new();
    for s in &input.series {
        for r in &s.repetitions {
            got.push((s.dataset.clone(), s.model.clone(), r.index, r));
        }
    }
    assert_eq!(got.len(), rows);
    // Match each CSV row to its repetition: same file (dataset), model, and k-th row of that
    // model in the file.
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    let mut worst_energy: f64 = 0.0;
    for (file, model, kwh, g) in &expected {
        let k = seen.entry((file.clone(), model.clone())).or_insert(0);
        let matches: Vec<_> = got
            .iter()
            .filter(|x| &x.0 == file && &x.1 == model)
            .collect();
        // Quebec rows sit in runs of their own with their own indices: find by energy order.
        let r = matches
            .iter()
            .find(|x| (x.3.total_joules() / J_PER_KWH - kwh).abs() <= 1e-12 * kwh)
            .unwrap_or_else(|| panic!("{file} {model} row {k}: no repetition with {kwh} kWh"));
        worst_energy = worst_energy.max((r.3.total_joules() / J_PER_KWH - kwh).abs() / kwh);
        assert_eq!(
            r.3.emissions_g,
            Some(*g),
            "{file} {model}: emissions carried over exactly"
        );
        assert_eq!(r.3.inferences, 1000);
        *k += 1;
    }
    eprintln!("worst relative energy difference after the J round trip: {worst_energy:e}");

    // Labels: CPU a constant 42.5 W and RAM a constant guess: both estimated; the GPU reported.
    let s = &input.series[0];
    let methods: Vec<_> = s.repetitions[0]
        .components
        .iter()
        .map(|c| c.method.as_str())
        .collect();
    assert!(
        methods.contains(&"estimated:tdp") && methods.contains(&"estimated:ram"),
        "{methods:?}"
    );
    assert!(s.repetitions[0]
        .components
        .iter()
        .any(|c| c.component == "gpu (all 8 of the machine)"));

    assert_eq!(
        s.gpus, 8,
        "CodeCarbon's GPU figure covers all 8 GPUs of the node"
    );
    assert_eq!(
        gpu_list(Some("8 x NVIDIA A100-SXM4-80GB"), Some(8)),
        vec!["NVIDIA A100-SXM4-80GB"; 8]
    );
    assert_eq!(gpu_list(Some("Tesla T4"), None), vec!["Tesla T4"]);
    assert!(gpu_list(None, Some(2)).is_empty());

    // The headline: distilbert on SST-2 used 4.7 Wh per 1,000 inferences in the paper's logs.
    let a = analyse(&input);
    let d = a
        .series
        .iter()
        .find(|s| {
            s.model == "distilbert-base-uncased-finetuned-sst-2-english"
                && s.dataset == "text_classif_sst2"
        })
        .unwrap();
    assert_eq!(d.repetitions, 10);
    assert!(
        d.wh_per_1000.mean > 1.0 && d.wh_per_1000.mean < 10.0,
        "{}",
        d.wh_per_1000.mean
    );
    assert_eq!(a.tasks.len(), 10);
}

#[test]
fn bad_options_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(tmp.path().join("s.sqlite")).unwrap();
    let opts = |task: &str, n| ImportOptions {
        task: task.into(),
        dataset: "d".into(),
        inferences: n,
        parameters: HashMap::new(),
        model_from: ModelFrom::Project,
        replace: false,
    };
    assert!(import_codecarbon(&mut store, &[], &opts("", None)).is_err());
    let e = import_codecarbon(&mut store, &[], &opts("text-classification", Some(0))).unwrap_err();
    assert!(e.to_string().contains("--inferences 0"));
    let ok = import_codecarbon(&mut store, &[], &opts("text-classification", None)).unwrap();
    assert!(ok.warnings[0].contains("--inferences"));
}

/// The real CodeCarbon 3.3.2 task file: one repetition per task row, energy and emissions as
/// CodeCarbon wrote them; models named by project (default) or by task.
#[test]
fn codecarbon_task_file_imports_exactly() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/codecarbon/emissions_tasks.csv");
    // (task, kWh, kg) as in the file's energy_consumed and emissions columns.
    let want = [
        ("tokenize", 1.5558725695552007e-05, 8.71895429253039e-07),
        ("forward", 1.552895752872314e-05, 8.702272509521163e-07),
    ];
    for (model_from, names) in [
        (ModelFrom::Project, ["fixture-tasks", "fixture-tasks"]),
        (ModelFrom::Task, ["tokenize", "forward"]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let store_path = tmp.path().join("t.sqlite");
        let mut store = Store::open(&store_path).unwrap();
        let opts = ImportOptions {
            task: "text-classification".into(),
            dataset: "d".into(),
            inferences: Some(50),
            parameters: HashMap::new(),
            model_from,
            replace: false,
        };
        let sum = import_codecarbon(&mut store, &[read_file(&path).unwrap()], &opts).unwrap();
        assert_eq!((sum.runs, sum.repetitions), (1, 2));
        assert_eq!(
            sum.models,
            if model_from == ModelFrom::Task { 2 } else { 1 }
        );
        drop(store);
        let input = read_store(&store_path).unwrap();
        let mut got = Vec::new();
        for s in &input.series {
            for r in &s.repetitions {
                got.push((s.model.clone(), r.index, r.total_joules(), r.emissions_g));
            }
        }
        got.sort_by(|a, b| a.2.total_cmp(&b.2).reverse());
        assert_eq!(got.len(), 2);
        for (i, ((model, _, j, g), (_task, kwh, kg))) in got.iter().zip(want).enumerate() {
            assert_eq!(model, names[i]);
            assert!(
                (j / J_PER_KWH - kwh).abs() <= 1e-15 * kwh,
                "{j} J vs {kwh} kWh"
            );
            assert_eq!(*g, Some(kg * 1000.0));
        }
        if model_from == ModelFrom::Project {
            // Two repetitions of the one model, in file order.
            assert_eq!((got[0].1, got[1].1), (0, 1));
        }
    }
}

#[test]
fn model_from_task_needs_a_task_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(tmp.path().join("s.sqlite")).unwrap();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/codecarbon/emissions.csv");
    let opts = ImportOptions {
        task: "text-classification".into(),
        dataset: "d".into(),
        inferences: Some(1),
        parameters: HashMap::new(),
        model_from: ModelFrom::Task,
        replace: false,
    };
    let e = import_codecarbon(&mut store, &[read_file(&path).unwrap()], &opts).unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("emissions.csv: --model-from task needs a CodeCarbon task file"),
        "{e}"
    );
}

#[test]
fn unix_time_of_calendar_dates() {
    let t = |s: &str| unix_seconds(&Timestamp::parse(s).unwrap());
    assert_eq!(t("1970-01-01T00:00:00"), 0.0);
    assert_eq!(t("2000-03-01T00:00:00"), 951_868_800.0);
    assert_eq!(t("2023-10-02T20:11:11"), 1_696_277_471.0);
}

#[test]
fn parameters_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.csv");
    std::fs::write(&p, "model_name,num_parameters\nbert,110000000\n").unwrap();
    assert_eq!(read_parameters(&p).unwrap()["bert"], 110_000_000);
    std::fs::write(&p, "model_name,num_parameters\nbert,lots\n").unwrap();
    let e = read_parameters(&p).unwrap_err().to_string();
    assert!(e.contains(":2:") && e.contains("lots"), "{e}");
    std::fs::write(&p, "a,b\n").unwrap();
    assert!(read_parameters(&p)
        .unwrap_err()
        .to_string()
        .contains("expected columns"));
}
