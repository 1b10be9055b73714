//! The results schema, as numbered migrations. A store records the highest migration applied in
//! `schema_version`; opening a store applies the missing ones in one transaction. Never edit a
//! published migration: add a new one. docs/bench.md describes every table.

/// Migrations in order; index + 1 is the schema version each one brings the store to.
pub const MIGRATIONS: &[&str] = &[
    // 1: first schema.
    r#"
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    suite_name TEXT NOT NULL,
    suite_path TEXT NOT NULL,
    suite_text TEXT NOT NULL,
    suite_hash TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    git_revision TEXT,
    tool_version TEXT NOT NULL,
    cpu_model TEXT NOT NULL,
    cpu_cores INTEGER NOT NULL,
    ram_bytes INTEGER NOT NULL,
    gpus_json TEXT NOT NULL,
    os TEXT NOT NULL,
    kernel TEXT NOT NULL,
    location TEXT NOT NULL,
    intensity_g_per_kwh REAL NOT NULL,
    intensity_source TEXT NOT NULL,
    intensity_year INTEGER,
    pue REAL NOT NULL
);
CREATE INDEX runs_by_hash ON runs (suite_hash, id);

CREATE TABLE idle_power (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    component TEXT NOT NULL,
    method TEXT NOT NULL,
    watts REAL NOT NULL,
    PRIMARY KEY (run_id, component)
);

CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    backend TEXT NOT NULL,
    kind TEXT NOT NULL,
    model TEXT,
    options_json TEXT NOT NULL,
    parameters INTEGER,
    description TEXT NOT NULL,
    UNIQUE (run_id, name)
);

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    task TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    examples INTEGER NOT NULL,
    undecodable INTEGER NOT NULL,
    UNIQUE (run_id, name)
);

-- role: 'train' (examples a model that learns is fitted on) or 'inference' (the measured sample).
CREATE TABLE samples (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    role TEXT NOT NULL CHECK (role IN ('train', 'inference')),
    position INTEGER NOT NULL,
    example_id TEXT NOT NULL,
    PRIMARY KEY (dataset_id, role, position)
);

CREATE TABLE repetitions (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    model_id INTEGER NOT NULL REFERENCES models (id),
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    idx INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    UNIQUE (run_id, model_id, dataset_id, idx)
);

-- phase: 'load', 'fit', 'warmup', 'inference'.
CREATE TABLE windows (
    id INTEGER PRIMARY KEY,
    repetition_id INTEGER NOT NULL REFERENCES repetitions (id),
    phase TEXT NOT NULL,
    duration_s REAL NOT NULL,
    items INTEGER NOT NULL,
    UNIQUE (repetition_id, phase)
);

CREATE TABLE window_energy (
    window_id INTEGER NOT NULL REFERENCES windows (id),
    component TEXT NOT NULL,
    method TEXT NOT NULL,
    joules REAL NOT NULL,
    above_idle_joules REAL,
    PRIMARY KEY (window_id, component)
);

CREATE TABLE inferences (
    repetition_id INTEGER NOT NULL REFERENCES repetitions (id),
    position INTEGER NOT NULL,
    example_id TEXT NOT NULL,
    latency_s REAL NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    prediction TEXT NOT NULL,
    gold TEXT,
    PRIMARY KEY (repetition_id, position)
);

CREATE TABLE metrics (
    repetition_id INTEGER NOT NULL REFERENCES repetitions (id),
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (repetition_id, name)
);
"#,
    // 2: emissions another tool reported per repetition (imports; see import.rs).
    r#"
CREATE TABLE IF NOT EXISTS reported_emissions (
    repetition_id INTEGER PRIMARY KEY REFERENCES repetitions (id),
    g_co2e REAL NOT NULL,
    source TEXT NOT NULL
);
"#,
    // 3: trust repairs (issue 14). Windows say which needed devices went uncounted and when
    // nothing was measured; each repetition keeps its own latency percentiles (a run's figure
    // is their mean); fitted sizes per model x dataset; imports record their file's content
    // hash; runs record the models they skipped.
    r#"
ALTER TABLE windows ADD COLUMN uncounted TEXT;
ALTER TABLE windows ADD COLUMN nothing_measured INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repetitions ADD COLUMN latency_p50_s REAL;
ALTER TABLE repetitions ADD COLUMN latency_p95_s REAL;
CREATE TABLE model_fits (
    model_id INTEGER NOT NULL REFERENCES models (id),
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    parameters INTEGER,
    description TEXT NOT NULL,
    PRIMARY KEY (model_id, dataset_id)
);
ALTER TABLE runs ADD COLUMN source_sha256 TEXT;
CREATE INDEX runs_by_source ON runs (source_sha256);
CREATE TABLE skipped_models (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);
"#,
    // 4: the protocol's `splits` (issue 13): the train and sample ids of splits 1.. of a
    // dataset (split 0 stays in `samples`), one row per id.
    r#"
CREATE TABLE IF NOT EXISTS split_samples (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    split INTEGER NOT NULL CHECK (split >= 1),
    role TEXT NOT NULL CHECK (role IN ('train', 'inference')),
    position INTEGER NOT NULL,
    example_id TEXT NOT NULL,
    PRIMARY KEY (dataset_id, split, role, position)
);
"#,
    // 5: sharded runs (issue 12): the shards of one invocation (`--shard i/n`, a Slurm job
    // array) share one run, found by its suite hash and name; each shard's row says where it
    // ran and whether it has ended (the run ends with its last shard).
    r#"
ALTER TABLE runs ADD COLUMN run_name TEXT;
CREATE UNIQUE INDEX runs_by_name ON runs (suite_hash, run_name) WHERE run_name IS NOT NULL;
CREATE TABLE run_shards (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    shard INTEGER NOT NULL CHECK (shard >= 0),
    shard_count INTEGER NOT NULL CHECK (shard < shard_count),
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    PRIMARY KEY (run_id, shard)
);
"#,
    // 6: served models (issue 11): each request's own end-to-end latency, time to first token,
    // inter-token gaps (JSON array, seconds), where its token counts came from ('usage',
    // 'stream-chunks', 'unknown'), retries, and its error if it failed.
    r#"
CREATE TABLE IF NOT EXISTS request_stats (
    repetition_id INTEGER NOT NULL REFERENCES repetitions (id),
    position INTEGER NOT NULL,
    e2e_s REAL NOT NULL,
    ttft_s REAL,
    inter_token_json TEXT NOT NULL,
    tokens_from TEXT NOT NULL,
    retries INTEGER NOT NULL,
    error TEXT,
    PRIMARY KEY (repetition_id, position)
);
"#,
];
