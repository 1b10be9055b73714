//! Hugging Face pipelines in a Python worker process (python/powerhungry_worker.py, embedded),
//! behind our `Backend`. The harness owns the meter, windows, sample and scoring; the worker
//! only builds the pipeline and answers inputs over a versioned JSON-lines protocol.
//!
//! Modules: `process` (the process and the protocol), `pipeline` (the Backend), `mapping`
//! (our inputs and outputs to the pipeline's), `options` (suite options, Python, model files).
//! Image generation: `diffusion` (the Backend of a diffusers pipeline), `diffusion_options`
//! (its suite options and preflight), `image_file` (where images go, the checks of a file).

pub mod diffusion;
pub mod diffusion_options;
pub mod embedder;
pub mod image_file;
pub mod mapping;
pub mod options;
pub mod pins;
pub mod pipeline;
pub mod process;

pub use diffusion::PythonDiffusion;
pub use diffusion_options::{diffusion_spec, missing_diffusion, DiffusionOptions, DiffusionSpec};
pub use embedder::PythonEmbedder;
pub use options::{PipelineOptions, DEFAULT_PYTHON, PYTHON_ENV};
pub use pipeline::{LoadSpec, PythonPipeline, WorkerVersions};
pub use process::{Spawn, Worker, PROTOCOL_VERSION, WORKER_SOURCE};

use anyhow::Result;
use powerhungry_tasks::TaskName;
use std::path::PathBuf;
use std::time::Duration;

/// What the suite runner knows beyond the model's own entry.
#[derive(Debug, Clone, Default)]
pub struct SuiteContext {
    /// The suite's folder (relative model paths).
    pub base_dir: PathBuf,
    pub allow_download: bool,
    /// `--python`, which wins over the model's option and POWERHUNGRY_PYTHON.
    pub python: Option<String>,
    /// Where generated images go (`powerhungry bench`: `<store file>.images`); image
    /// generation refuses to run without one.
    pub images_dir: Option<PathBuf>,
    /// Where each worker's whole stderr is written (`powerhungry bench`: `<store file>.logs`);
    /// None: only its last lines are kept, for error messages.
    pub logs_dir: Option<PathBuf>,
    /// The GPUs the run's meter counts (`bench --gpus`) as a CUDA_VISIBLE_DEVICES value
    /// (`"0,2"`, `""` for none); None: every GPU the harness itself sees.
    pub cuda_visible_devices: Option<String>,
}

/// The file a new worker's stderr goes to in `logs_dir`: named after the model and unique in
/// this process (`worker-<model>-<unix ms>-<n>.log`).
pub fn worker_log(logs_dir: Option<&std::path::Path>, model: &str) -> Option<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = logs_dir?;
    let stem: String = std::path::Path::new(model.trim_end_matches('/'))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Some(dir.join(format!("worker-{stem}-{ms}-{n}.log")))
}

/// The worker's GPU environment: the GPUs the meter counts (`bench --gpus`), so the model runs
/// on exactly those, numbered as NVML numbers them (CUDA_DEVICE_ORDER=PCI_BUS_ID; CUDA's own
/// order puts the fastest first). A model's `cuda_visible_devices` option must agree with
/// them: otherwise the meter would count other GPUs than the model uses.
pub fn worker_gpu_env(
    option: Option<&str>,
    harness: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let gpus = match (option, harness) {
        (Some(o), Some(h)) if o.replace(' ', "") != h.replace(' ', "") => anyhow::bail!(
            "the model's `cuda_visible_devices = \"{o}\"` differs from the run's `--gpus {}`: \
             the meter would count other GPUs than the model runs on; drop the option or give \
             the same GPUs to both",
            if h.is_empty() { "none" } else { h }
        ),
        (_, Some(h)) => h,
        (Some(o), None) => o,
        (None, None) => return Ok(Vec::new()),
    };
    Ok(vec![
        ("CUDA_VISIBLE_DEVICES".to_string(), gpus.replace(' ', "")),
        ("CUDA_DEVICE_ORDER".to_string(), "PCI_BUS_ID".to_string()),
    ])
}

/// None when the model can be loaded: options valid, Python found, weights local (or
/// downloads allowed). Otherwise why not, said so a user can fix it.
pub fn missing(model: Option<&str>, options: &toml::Table, ctx: &SuiteContext) -> Option<String> {
    let check = || -> Result<()> {
        let o = PipelineOptions::parse(options)?;
        let python = o.python(ctx.python.as_deref());
        if !process::python_found(&python) {
            anyhow::bail!(
                "Python not found: `{python}` (from --python, the model's `python` option, \
                 {PYTHON_ENV}, or the default {DEFAULT_PYTHON}) is not a file or on PATH; \
                 install Python 3 with `pip install -r python/requirements-worker.txt`, or \
                 name the interpreter"
            );
        }
        let Some(model) = model else {
            anyhow::bail!(
                "a transformers pipeline model needs `model` (a folder or a Hugging Face id)"
            )
        };
        options::locate_model(model, &ctx.base_dir, ctx.allow_download)?;
        Ok(())
    };
    check().err().map(|e| format!("{e:#}"))
}

/// The LoadSpec of a suite's model for `task`.
pub fn load_spec(
    model: Option<&str>,
    options: &toml::Table,
    task: TaskName,
    ctx: &SuiteContext,
) -> Result<LoadSpec> {
    let o = PipelineOptions::parse(options)?;
    let Some(model) = model else {
        anyhow::bail!("a transformers pipeline model needs `model` (a folder or a Hugging Face id)")
    };
    let located = options::locate_model(model, &ctx.base_dir, ctx.allow_download)?;
    let to_json = |t: &toml::Table| -> Result<serde_json::Map<String, serde_json::Value>> {
        match serde_json::to_value(t)? {
            serde_json::Value::Object(m) => Ok(m),
            _ => Ok(Default::default()),
        }
    };
    let mut call_kwargs = match o.prompt {
        Some(_) => mapping::zero_shot_call_kwargs(),
        None => mapping::default_call_kwargs(task),
    };
    call_kwargs.extend(to_json(&o.call_kwargs)?);
    let mut env = Vec::new();
    if !ctx.allow_download {
        // Never reach the network unless asked: transformers reads the cache only.
        env.push(("HF_HUB_OFFLINE".to_string(), "1".to_string()));
    }
    env.extend(worker_gpu_env(
        o.cuda_visible_devices.as_deref(),
        ctx.cuda_visible_devices.as_deref(),
    )?);
    Ok(LoadSpec {
        spawn: Spawn {
            python: o.python(ctx.python.as_deref()),
            script: None,
            env,
            log: worker_log(ctx.logs_dir.as_deref(), model),
        },
        task,
        pipeline: o
            .pipeline
            .clone()
            .unwrap_or_else(|| task.pipeline().to_string()),
        model: located,
        device: o.device.clone().unwrap_or_else(|| "cpu".into()),
        dtype: o.dtype.clone(),
        pipeline_kwargs: to_json(&o.pipeline_kwargs)?,
        call_kwargs,
        label_map: o.label_map.clone(),
        prompt: o.prompt.clone(),
        timeout: Duration::from_secs_f64(o.timeout_s.unwrap_or(600.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_options_become_the_load_spec() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("m")).expect("mkdir");
        let options: toml::Table = toml::from_str(
            "python = \"/opt/py/bin/python\"\ndevice = \"cuda\"\ndtype = \"float16\"\n\
             cuda_visible_devices = \"1\"\ncall_kwargs = { max_new_tokens = 4 }\ntimeout_s = 2.5",
        )
        .expect("toml");
        let ctx = SuiteContext {
            base_dir: dir.path().into(),
            ..Default::default()
        };
        let s = load_spec(Some("m"), &options, TaskName::TextGeneration, &ctx).expect("spec");
        assert_eq!(s.spawn.python, "/opt/py/bin/python");
        assert_eq!(s.pipeline, "text-generation");
        assert_eq!(s.model, dir.path().join("m").to_string_lossy());
        assert_eq!(
            (s.device.as_str(), s.dtype.as_deref()),
            ("cuda", Some("float16"))
        );
        assert_eq!(s.timeout, Duration::from_millis(2500));
        // The study's limit overridden, its other default kept.
        assert_eq!(s.call_kwargs["max_new_tokens"], 4);
        assert_eq!(s.call_kwargs["return_full_text"], false);
        assert!(s
            .spawn
            .env
            .contains(&("CUDA_VISIBLE_DEVICES".into(), "1".into())));
        assert!(s.spawn.env.contains(&("HF_HUB_OFFLINE".into(), "1".into())));
        assert!(s
            .spawn
            .env
            .contains(&("CUDA_DEVICE_ORDER".into(), "PCI_BUS_ID".into())));
        // The run's --gpus: the option must agree with it, or the meter would count others.
        let with_gpus = |g: &str| SuiteContext {
            cuda_visible_devices: Some(g.into()),
            ..ctx.clone()
        };
        let s = load_spec(
            Some("m"),
            &options,
            TaskName::TextGeneration,
            &with_gpus("1"),
        )
        .expect("same GPUs");
        assert!(s
            .spawn
            .env
            .contains(&("CUDA_VISIBLE_DEVICES".into(), "1".into())));
        let e = format!(
            "{:#}",
            load_spec(
                Some("m"),
                &options,
                TaskName::TextGeneration,
                &with_gpus("0,2")
            )
            .unwrap_err()
        );
        assert!(e.contains("differs from the run's `--gpus 0,2`"), "{e}");
        let mut no_option = options.clone();
        no_option.remove("cuda_visible_devices");
        let s = load_spec(
            Some("m"),
            &no_option,
            TaskName::TextGeneration,
            &with_gpus("0,2"),
        )
        .expect("spec");
        assert!(s
            .spawn
            .env
            .contains(&("CUDA_VISIBLE_DEVICES".into(), "0,2".into())));
        // --gpus none: the worker sees no GPU.
        let s = load_spec(
            Some("m"),
            &no_option,
            TaskName::TextGeneration,
            &with_gpus(""),
        )
        .expect("spec");
        assert!(s
            .spawn
            .env
            .contains(&("CUDA_VISIBLE_DEVICES".into(), "".into())));
        // --python wins over the option.
        let ctx = SuiteContext {
            python: Some("/usr/bin/python3".into()),
            ..ctx
        };
        let s = load_spec(Some("m"), &options, TaskName::TextGeneration, &ctx).expect("spec");
        assert_eq!(s.spawn.python, "/usr/bin/python3");
        for (bad, want) in [
            ("dtype = \"half\"", "`dtype`"),
            ("timeout_s = 0", "`timeout_s`"),
            ("devise = \"cuda\"", "devise"),
        ] {
            let t: toml::Table = toml::from_str(bad).expect("toml");
            let e = format!(
                "{:#}",
                load_spec(Some("m"), &t, TaskName::TextGeneration, &ctx).unwrap_err()
            );
            assert!(e.contains(want), "{bad}: {e}");
        }
        let e = format!(
            "{:#}",
            load_spec(
                Some("org/not-cached"),
                &toml::Table::new(),
                TaskName::TextGeneration,
                &ctx
            )
            .unwrap_err()
        );
        assert!(e.contains("Hugging Face cache"), "{e}");
    }
}
