use super::*;
use crate::input::{ComponentEnergy, Repetition};

fn rep(
    index: u32,
    inferences: u64,
    cpu_j: f64,
    ram_j: f64,
    duration_s: f64,
    acc: f64,
) -> Repetition {
    Repetition {
        index,
        inferences,
        duration_s,
        components: vec![
            ComponentEnergy {
                component: "cpu".into(),
                method: "measured:rapl".into(),
                joules: cpu_j,
                idle_joules: Some(cpu_j / 4.0),
            },
            ComponentEnergy {
                component: "ram".into(),
                method: "estimated:ram".into(),
                joules: ram_j,
                idle_joules: Some(0.0),
            },
        ],
        metrics: [("accuracy".to_string(), acc)].into(),
        output_tokens: None,
        emissions_g: None,
        latency_p50_ms: Some(2.0),
        latency_p95_ms: Some(4.0),
        incomplete: None,
        nothing_measured: false,
    }
}

fn series(model: &str, reps: Vec<Repetition>) -> Series {
    Series {
        suite: Some("s".into()),
        run_id: Some("1".into()),
        task: "text-classification".into(),
        model: model.into(),
        dataset: "rt".into(),
        parameters: Some(1000),
        gpus: 0,
        intensity_g_per_kwh: Some(500.0),
        intensity_source: None,
        pue: 1.0,
        primary_metric: Some("accuracy".into()),
        generative: false,
        unfinished: false,
        same_sample: false,
        approach: None,
        repetitions: reps,
    }
}

#[test]
fn series_figures_by_hand() {
    // 500 inferences per repetition; totals 3600 J and 7200 J -> 1 Wh and 2 Wh per 500
    // -> 2 and 4 Wh per 1,000: mean 3, SD sqrt(2), CI half-width t(0.975, 1) * sqrt(2)/sqrt(2).
    let s = series(
        "m",
        vec![
            rep(0, 500, 2700.0, 900.0, 10.0, 0.8),
            rep(1, 500, 5400.0, 1800.0, 20.0, 0.9),
        ],
    );
    let a = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![s],
    });
    let m = &a.series[0];
    assert!((m.wh_per_1000.mean - 3.0).abs() < 1e-12);
    assert!((m.wh_per_1000.sd.unwrap() - 2f64.sqrt()).abs() < 1e-12);
    assert!((m.wh_per_1000.ci95_half.unwrap() - 12.7062).abs() < 1e-3);
    // Above idle: cpu loses a quarter: (2700*0.75 + 900)/3600*2 = 1.625, and 3.25 -> mean 2.4375.
    assert!((m.wh_per_1000_above_idle.as_ref().unwrap().mean - 2.4375).abs() < 1e-12);
    // g per 1,000: 3 Wh = 0.003 kWh x 500 g/kWh = 1.5 g.
    assert!((m.g_co2e_per_1000.as_ref().unwrap().mean - 1.5).abs() < 1e-12);
    assert!(m.estimated);
    assert_eq!(m.methods, vec!["cpu=measured:rapl", "ram=estimated:ram"]);
    assert_eq!(m.rating.as_deref(), Some("A"));
    assert!((m.metric.as_ref().unwrap().mean - 0.85).abs() < 1e-12);
    assert_eq!(m.latency_p50_ms, Some(2.0));
    // Totals: 10,800 J = 0.003 kWh, 1.5 g (0.003 kWh x 500).
    assert!((a.totals.kwh - 0.003).abs() < 1e-15);
    assert!((a.totals.g_co2e.unwrap() - 1.5).abs() < 1e-12);
    assert_eq!(a.totals.inferences, 1000);
    // Energy vs duration: (10 s, 1 Wh), (20 s, 2 Wh): slope 0.1 Wh/s, intercept 0.
    let f = a.duration_fits[0].fit.as_ref().unwrap();
    assert!((f.slope - 0.1).abs() < 1e-12 && f.intercept.abs() < 1e-12);
}

#[test]
fn task_headline_front_and_skips() {
    let a = series("a", vec![rep(0, 1000, 3600.0, 0.0, 1.0, 0.7)]); // 1 Wh, acc 0.7
    let b = series("b", vec![rep(0, 1000, 3.0 * 3600.0, 0.0, 1.0, 0.9)]); // 3 Wh, acc 0.9
    let c = series("c", vec![rep(0, 1000, 5.0 * 3600.0, 0.0, 1.0, 0.8)]); // 5 Wh, dominated by b
    let empty = series("d", vec![]);
    let negative = series("f", vec![rep(0, 10, -5.0, 0.0, 1.0, 0.5)]);
    let zero = series("e", vec![rep(0, 0, 1.0, 0.0, 1.0, 0.5)]);
    let an = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![a, b, c, empty, zero, negative],
    });
    assert_eq!(an.skipped.len(), 3);
    assert!(an.skipped[2].contains("negative"), "{:?}", an.skipped);
    assert!(an.skipped[0].contains("no repetitions") && an.skipped[1].contains("0 inferences"));
    let t = &an.tasks[0];
    // Wh per 1,000 (the unit of every table): 1, 3, 5 -> mean 3, SD 2.
    assert_eq!((t.series, t.models), (3, 3));
    assert!((t.wh_per_1000.mean - 3.0).abs() < 1e-12);
    assert!((t.wh_per_1000.sd.unwrap() - 2.0).abs() < 1e-12);
    assert_eq!(an.fronts.len(), 1);
    let names: Vec<&str> = an.fronts[0]
        .members
        .iter()
        .map(|&i| an.series[i].model.as_str())
        .collect();
    assert_eq!(names, vec!["a", "b"]);
    // One repetition per series: no SD; all durations equal: the fit is undefined, said so.
    assert!(an.series[0].wh_per_1000.sd.is_none());
    assert_eq!(an.duration_fits[0].fit, Err(FitUndefined::VerticalLine));
}

#[test]
fn recorded_emissions_win_over_intensity() {
    let mut r = rep(0, 1000, 3600.0, 0.0, 1.0, 0.7);
    r.emissions_g = Some(0.25);
    let an = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![series("a", vec![r])],
    });
    assert_eq!(an.series[0].g_co2e_per_1000.as_ref().unwrap().mean, 0.25);
}

#[test]
fn unfinished_incomplete_and_unmeasured_series_are_shown_apart() {
    let rep = |i: u32, wh: f64| {
        let mut r = self::rep(i, 1000, wh * J_PER_WH, 0.0, 1.0, 0.9);
        r.metrics.insert("accuracy".into(), 0.9);
        r
    };
    let whole = series("whole", vec![rep(0, 50.0), rep(1, 50.0)]);
    let mut unfinished = series("unfinished", vec![rep(0, 1.0), rep(1, 1.0)]);
    unfinished.unfinished = true;
    let mut partial = series("partial", vec![rep(0, 0.5), rep(1, 0.5)]);
    partial.repetitions[1].incomplete =
        Some("incomplete: cpu-package0 not counted (held by another meter)".into());
    let mut nothing = series("nothing", vec![rep(0, 0.0)]);
    nothing.repetitions[0].components.clear();
    nothing.repetitions[0].nothing_measured = true;
    nothing.repetitions[0].incomplete = Some("nothing measured".into());
    let an = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![whole, unfinished, partial, nothing],
    });
    assert_eq!(an.series.len(), 4, "all are shown");
    let by = |m: &str| an.series.iter().find(|s| s.model == m).expect(m);
    assert!(by("whole").comparable());
    assert_eq!(
        by("unfinished").status.as_deref(),
        Some("unfinished run (2 repetition(s) stored)")
    );
    assert!(by("partial")
        .status
        .as_deref()
        .unwrap_or("")
        .contains("in 1 of 2 repetition(s)"));
    assert!(by("nothing").nothing_measured());
    for m in ["unfinished", "partial", "nothing"] {
        assert_eq!(by(m).rating, None, "{m} must not be rated");
    }
    // The task mean and the front hold the complete series only (the cheaper ones would
    // otherwise win).
    assert_eq!(an.tasks[0].series, 1);
    assert!((an.tasks[0].wh_per_1000.mean - 50.0).abs() < 1e-9);
    let members: Vec<&str> = an.fronts[0]
        .members
        .iter()
        .map(|&i| an.series[i].model.as_str())
        .collect();
    assert_eq!(members, ["whole"]);
    assert_eq!(an.notes.len(), 3, "{:?}", an.notes);
    // Totals leave out what is not whole: whole (2 x 50 Wh x 1) + unfinished (2 x 1 Wh).
    assert!((an.totals.kwh - 0.102).abs() < 1e-12, "{}", an.totals.kwh);
    let t = crate::tables::model_table(&an);
    let row = |m: &str| t.rows.iter().find(|r| r[1] == m).expect(m).clone();
    let col = |h: &str| t.headers.iter().position(|x| x == h).expect(h);
    assert_eq!(row("nothing")[col("wh_per_1000")], crate::tables::NOTHING);
    assert_eq!(row("partial")[col("rating")], "not rated");
}

#[test]
fn a_metric_over_one_reused_sample_has_no_spread_to_show() {
    let mut reps = vec![
        rep(0, 10, 1.0, 1.0, 1.0, 0.5),
        rep(1, 10, 1.0, 1.0, 1.0, 0.5),
    ];
    for r in &mut reps {
        r.metrics.insert("accuracy".into(), 0.8);
    }
    let mut s = series("m", reps);
    s.same_sample = true;
    let an = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![s],
    });
    let t = crate::tables::model_table(&an);
    let col = t
        .headers
        .iter()
        .position(|x| x == "metric_sd")
        .expect("metric_sd");
    assert_eq!(t.rows[0][col], crate::tables::SAME_SAMPLE);
}

#[test]
fn a_series_without_a_named_metric_takes_its_tasks_headline() {
    // An extractive-QA series read back from an export: exact match sorts first, but the
    // task's headline (SQuAD F1) is what the quality axis shows; summaries show ROUGE-L.
    let with = |task: &str, metrics: &[(&str, f64)]| {
        let mut r = rep(0, 10, 36.0, 0.0, 1.0, 0.0);
        r.metrics = metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let mut s = series(task, vec![r]);
        s.task = task.into();
        s.primary_metric = None;
        s
    };
    let a = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![
            with("extractive-qa", &[("exact_match", 0.5), ("f1", 0.75)]),
            with(
                "summarization",
                &[("rouge1", 0.4), ("rouge2", 0.2), ("rougeL", 0.3)],
            ),
            with("some-imported-task", &[("bleu", 0.1), ("accuracy", 0.9)]),
        ],
    });
    let got: Vec<(Option<&str>, f64)> = a
        .series
        .iter()
        .map(|s| {
            (
                s.metric_name.as_deref(),
                s.metric.as_ref().map_or(f64::NAN, |m| m.mean),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("f1"), 0.75),
            (Some("rougeL"), 0.3),
            (Some("accuracy"), 0.9)
        ]
    );
}

#[test]
fn zero_shot_models_are_set_beside_the_task_specific_ones() {
    // bow: 2 Wh/1k at 0.8; tfidf: 4 Wh/1k at 0.9; an LLM zero-shot: 200 Wh/1k at 0.6.
    let one = |model: &str, joules: f64, acc: f64, approach: Option<&str>| {
        let mut s = series(model, vec![rep(0, 500, joules, 0.0, 10.0, acc)]);
        s.approach = approach.map(str::to_string);
        s
    };
    let a = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![
            one("bow", 3600.0, 0.8, None),
            one("tfidf", 7200.0, 0.9, None),
            one("llm", 360_000.0, 0.6, Some("zero-shot (generate)")),
        ],
    });
    let t = crate::tables::zero_shot_table(&a);
    let cols = |name: &str| t.headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<(&str, &str, &str, &str)> = t
        .rows
        .iter()
        .map(|r| {
            (
                r[cols("model")].as_str(),
                r[cols("approach")].as_str(),
                r[cols("energy_x_cheapest_task_specific")].as_str(),
                r[cols("metric_minus_best_task_specific")].as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("bow", "task-specific", "1.000", "-0.1000"),
            ("tfidf", "task-specific", "2.000", "0"),
            ("llm", "zero-shot (generate)", "100.0", "-0.3000"),
        ]
    );
    // Without a zero-shot model there is no such table.
    let only = analyse(&ReportInput {
        source: "t".into(),
        notes: Vec::new(),
        series: vec![one("bow", 3600.0, 0.8, None)],
    });
    assert!(crate::tables::zero_shot_table(&only).rows.is_empty());
}
