//! Fixtures shared by the store's tests: a run start, a model, a dataset and a repetition with
//! every kind of record (energies, inferences, a served request's stats, metrics).
#![allow(dead_code)]

use powerhungry_bench::sink::*;

pub fn run_start(hash: &str) -> RunStart {
    RunStart {
        suite_name: "tiny".into(),
        suite_path: "suites/tiny.toml".into(),
        suite_text: "name = \"tiny\"\n".into(),
        suite_hash: hash.into(),
        started_at: 1_700_000_000.25,
        git_revision: Some("abc123".into()),
        tool_version: "0.1.0".into(),
        hardware: HardwareInfo {
            cpu_model: "Test CPU".into(),
            cpu_cores: 2,
            ram_bytes: 24 << 30,
            gpus: vec![],
            os: "Debian".into(),
            kernel: "6.1.0".into(),
        },
        location: LocationRecord {
            location: "country FRA".into(),
            intensity_g_per_kwh: 56.0,
            source: "test table".into(),
            year: Some(2023),
            pue: 1.0,
        },
        idle: vec![IdlePower {
            component: "cpu".into(),
            method: "estimated:cpu-load".into(),
            watts: 4.5,
        }],
    }
}

pub fn model() -> ModelRecord {
    ModelRecord {
        name: "bow".into(),
        backend: "traditional".into(),
        kind: "bow-lr".into(),
        model: None,
        options_json: "{}".into(),
        parameters: Some(20_001),
        description: "bag of words + LR".into(),
    }
}

pub fn dataset() -> DatasetRecord {
    DatasetRecord {
        name: "rt".into(),
        task: "text-classification".into(),
        spec_json: "{\"path\":\"data/rt\"}".into(),
        examples: 10,
        undecodable: 1,
        train_ids: vec!["pos:1".into(), "neg:2".into()],
        sample_ids: vec!["pos:3".into(), "neg:4".into()],
    }
}

pub fn repetition(index: u32) -> RepetitionRecord {
    RepetitionRecord {
        model: "bow".into(),
        dataset: "rt".into(),
        index,
        started_at: 1_700_000_001.0 + index as f64,
        ended_at: 1_700_000_001.5 + index as f64,
        latency_p50_s: Some(0.0015),
        latency_p95_s: Some(0.0015),
        windows: vec![
            WindowRecord {
                phase: Phase::Load,
                uncounted: vec![],
                nothing_measured: false,
                duration_s: 0.01,
                items: 0,
                components: vec![],
            },
            WindowRecord {
                phase: Phase::Inference,
                uncounted: vec![],
                nothing_measured: false,
                duration_s: 0.5,
                items: 2,
                components: vec![
                    ComponentEnergy {
                        component: "cpu".into(),
                        method: "estimated:cpu-load".into(),
                        joules: 3.25,
                        above_idle_joules: Some(1.0),
                    },
                    ComponentEnergy {
                        component: "ram".into(),
                        method: "estimated:ram".into(),
                        joules: 0.5,
                        above_idle_joules: None,
                    },
                ],
            },
        ],
        inferences: vec![
            InferenceRecord {
                position: 0,
                example_id: "pos:3".into(),
                latency_s: 0.001,
                input_tokens: 7,
                output_tokens: 0,
                prediction: "pos".into(),
                gold: Some("pos".into()),
                request: None,
            },
            InferenceRecord {
                position: 1,
                example_id: "neg:4".into(),
                latency_s: 0.002,
                input_tokens: 5,
                output_tokens: 0,
                prediction: "pos".into(),
                gold: None,
                // A served model's request: its stats round-trip through `request_stats`.
                request: Some(powerhungry_bench::sink::RequestStats {
                    e2e_s: 0.25,
                    ttft_s: Some(0.05),
                    inter_token_s: vec![0.01, 0.02],
                    tokens_from: "usage".into(),
                    retries: 1,
                    error: Some("HTTP 500: boom".into()),
                }),
            },
        ],
        metrics: vec![MetricValue {
            name: "accuracy".into(),
            value: 0.5,
        }],
    }
}
