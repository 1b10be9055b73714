//! A `diffusion-pipeline` model's suite options (`[models.options]`), what it needs before it
//! can run (`missing_diffusion`: Python with torch, transformers and diffusers, a diffusers
//! folder with `model_index.json`, a folder for the images) and its `DiffusionSpec`.

use crate::options::{hub_cache, locate_model, DEFAULT_PYTHON, PYTHON_ENV};
use crate::process::{python_found, Spawn};
use crate::SuiteContext;
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[models.options]` of a `transformers` `diffusion-pipeline` model. Absent settings are the
/// pipeline's defaults, as the study ran them (Stable Diffusion v1: 50 steps, 512x512,
/// guidance 7.5).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffusionOptions {
    /// The interpreter for this model (overridden by `--python`).
    pub python: Option<String>,
    /// `cpu` or `cuda`/`cuda:N`; default: CUDA when torch sees a GPU, else the CPU.
    pub device: Option<String>,
    /// The GPUs the worker sees (`CUDA_VISIBLE_DEVICES`).
    pub cuda_visible_devices: Option<String>,
    /// A torch dtype name; default float32.
    pub dtype: Option<String>,
    /// Denoising steps (`num_inference_steps`).
    pub num_inference_steps: Option<u32>,
    /// Image size in pixels, multiples of 8.
    pub height: Option<u32>,
    pub width: Option<u32>,
    /// Classifier-free guidance scale.
    pub guidance_scale: Option<f64>,
    /// The seed of every image's generator (default 0): an image depends on its prompt and
    /// this seed only.
    pub seed: Option<u64>,
    /// Keyword arguments of `DiffusionPipeline.from_pretrained(...)` (e.g. `variant`).
    #[serde(default)]
    pub pipeline_kwargs: toml::Table,
    /// Other keyword arguments of every call (e.g. `negative_prompt`); the options above win.
    #[serde(default)]
    pub call_kwargs: toml::Table,
    /// Seconds one image may take before the worker counts as hung (default 600).
    pub timeout_s: Option<f64>,
}

impl DiffusionOptions {
    pub fn parse(options: &toml::Table) -> Result<DiffusionOptions> {
        let o: DiffusionOptions = toml::Value::Table(options.clone())
            .try_into()
            .map_err(|e| anyhow!("diffusion-pipeline options: {e}"))?;
        if let Some(t) = o.timeout_s {
            if !(t.is_finite() && t > 0.0) {
                bail!("diffusion-pipeline option `timeout_s` = {t}: expected seconds > 0");
            }
        }
        if let Some(d) = &o.dtype {
            if !["float16", "bfloat16", "float32", "float64"].contains(&d.as_str()) {
                bail!(
                    "diffusion-pipeline option `dtype` = {d:?}: expected float16, bfloat16, \
                     float32 or float64"
                );
            }
        }
        if o.num_inference_steps == Some(0) {
            bail!("diffusion-pipeline option `num_inference_steps` = 0: expected 1 or more");
        }
        for (key, v) in [("height", o.height), ("width", o.width)] {
            if let Some(v) = v {
                if v == 0 || v % 8 != 0 {
                    bail!(
                        "diffusion-pipeline option `{key}` = {v}: expected a multiple of 8 \
                         (the pipelines' latents are an eighth of the image)"
                    );
                }
            }
        }
        if let Some(g) = o.guidance_scale {
            if !(g.is_finite() && g >= 0.0) {
                bail!("diffusion-pipeline option `guidance_scale` = {g}: expected a number >= 0");
            }
        }
        Ok(o)
    }

    /// The interpreter: `--python`, the model's option, POWERHUNGRY_PYTHON, else python3.
    pub fn python(&self, cli: Option<&str>) -> String {
        cli.map(String::from)
            .or_else(|| self.python.clone())
            .or_else(|| std::env::var(PYTHON_ENV).ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PYTHON.to_string())
    }

    /// The keyword arguments of every call: `call_kwargs` with the named options over them.
    pub fn call_kwargs(&self) -> Result<Map<String, Value>> {
        let mut m = match serde_json::to_value(&self.call_kwargs)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let named = [
            (
                "num_inference_steps",
                self.num_inference_steps.map(|v| json!(v)),
            ),
            ("height", self.height.map(|v| json!(v))),
            ("width", self.width.map(|v| json!(v))),
            ("guidance_scale", self.guidance_scale.map(|v| json!(v))),
        ];
        for (k, v) in named {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        for k in ["prompt", "generator", "output_type", "callback_on_step_end"] {
            if m.contains_key(k) {
                bail!("diffusion-pipeline `call_kwargs` cannot set `{k}`: the harness does");
            }
        }
        Ok(m)
    }
}

/// Everything needed to start a worker and load one diffusers pipeline.
#[derive(Debug, Clone)]
pub struct DiffusionSpec {
    pub spawn: Spawn,
    /// A diffusers folder (with model_index.json) or a Hugging Face id in the cache.
    pub model: String,
    /// None: CUDA when there is one, else the CPU (the worker decides).
    pub device: Option<String>,
    pub dtype: Option<String>,
    pub pipeline_kwargs: Map<String, Value>,
    pub call_kwargs: Map<String, Value>,
    pub seed: u64,
    /// The size the suite asked for (checked against every image), None: the pipeline's.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Where the images go: `<images_dir>/run-<id>/<model>/<dataset>/` (image_file.rs).
    pub images_dir: PathBuf,
    pub timeout: Duration,
}

/// The folder the model's `model_index.json` should be in: the located folder, or the id's
/// snapshot in the Hugging Face cache.
fn model_index(located: &str) -> Result<()> {
    let p = Path::new(located);
    if p.is_dir() {
        let index = p.join("model_index.json");
        if !index.is_file() {
            bail!(
                "{} is not a diffusers pipeline folder: it has no model_index.json (save one \
                 with `pipe.save_pretrained(DIR)`, or fetch the model with `huggingface-cli \
                 download ID --local-dir DIR`)",
                p.display()
            );
        }
        return Ok(());
    }
    let snapshots = hub_cache()
        .join(format!("models--{}", located.replace('/', "--")))
        .join("snapshots");
    let found = std::fs::read_dir(&snapshots)
        .map(|d| {
            d.flatten()
                .any(|s| s.path().join("model_index.json").is_file())
        })
        .unwrap_or(false);
    if !found {
        bail!(
            "the Hugging Face cache has no model_index.json for `{located}` (looked in {}); \
             fetch the whole pipeline with `huggingface-cli download {located}`",
            snapshots.display()
        );
    }
    Ok(())
}

/// The packages of torch, transformers and diffusers that `python` cannot find, as pip specs.
fn lacking_packages(python: &str) -> Result<Vec<String>> {
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import importlib.util as u\n\
             print(' '.join(n for n in ('torch', 'transformers', 'diffusers') \
             if u.find_spec(n) is None))",
        ])
        .output()
        .map_err(|e| anyhow!("running `{python}` to look for diffusers: {e}"))?;
    if !out.status.success() {
        bail!(
            "`{python}` failed looking for diffusers: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(crate::pins::pip_spec)
        .collect())
}

/// None when the diffusion model can run: options valid, Python found with torch,
/// transformers and diffusers, the pipeline's folder (with model_index.json) local, a folder
/// for the images given. Otherwise why not, said so a user can fix it.
pub fn missing_diffusion(
    model: Option<&str>,
    options: &toml::Table,
    ctx: &SuiteContext,
) -> Option<String> {
    let check = || -> Result<()> {
        let o = DiffusionOptions::parse(options)?;
        o.call_kwargs()?;
        let python = o.python(ctx.python.as_deref());
        if !python_found(&python) {
            bail!(
                "Python not found: `{python}` (from --python, the model's `python` option, \
                 {PYTHON_ENV}, or the default {DEFAULT_PYTHON}) is not a file or on PATH; \
                 install Python 3 with `pip install -r python/requirements-worker.txt`, or \
                 name the interpreter"
            );
        }
        let Some(model) = model else {
            bail!("a diffusion-pipeline model needs `model` (a diffusers folder or a Hugging Face id)")
        };
        let located = locate_model(model, &ctx.base_dir, ctx.allow_download)?;
        if !ctx.allow_download {
            model_index(&located)?;
        }
        if ctx.images_dir.is_none() {
            bail!(
                "no folder for generated images was given (the harness's images_dir; \
                 `powerhungry bench` puts them beside the store)"
            );
        }
        let lacking = lacking_packages(&python)?;
        if !lacking.is_empty() {
            bail!(
                "the Python at `{python}` lacks {}; install with `{python} -m pip install {}`",
                lacking.join(" and "),
                lacking.join(" ")
            );
        }
        Ok(())
    };
    check().err().map(|e| format!("{e:#}"))
}

/// The DiffusionSpec of a suite's `diffusion-pipeline` model.
pub fn diffusion_spec(
    model: Option<&str>,
    options: &toml::Table,
    ctx: &SuiteContext,
) -> Result<DiffusionSpec> {
    let o = DiffusionOptions::parse(options)?;
    let Some(model) = model else {
        bail!("a diffusion-pipeline model needs `model` (a diffusers folder or a Hugging Face id)")
    };
    let located = locate_model(model, &ctx.base_dir, ctx.allow_download)?;
    if !ctx.allow_download {
        model_index(&located)?;
    }
    let Some(images_dir) = ctx.images_dir.clone() else {
        bail!("no folder for generated images was given (the harness's images_dir)")
    };
    let mut env = Vec::new();
    if !ctx.allow_download {
        env.push(("HF_HUB_OFFLINE".to_string(), "1".to_string()));
    }
    env.extend(crate::worker_gpu_env(
        o.cuda_visible_devices.as_deref(),
        ctx.cuda_visible_devices.as_deref(),
    )?);
    let pipeline_kwargs = match serde_json::to_value(&o.pipeline_kwargs)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Ok(DiffusionSpec {
        spawn: Spawn {
            python: o.python(ctx.python.as_deref()),
            script: None,
            env,
            log: crate::worker_log(ctx.logs_dir.as_deref(), model),
        },
        model: located,
        device: o.device.clone(),
        dtype: o.dtype.clone(),
        pipeline_kwargs,
        call_kwargs: o.call_kwargs()?,
        seed: o.seed.unwrap_or(0),
        width: o.width,
        height: o.height,
        images_dir,
        timeout: Duration::from_secs_f64(o.timeout_s.unwrap_or(600.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_naming_the_key() {
        for (bad, want) in [
            ("height = 30", "`height` = 30"),
            ("width = 0", "`width` = 0"),
            ("num_inference_steps = 0", "`num_inference_steps` = 0"),
            ("guidance_scale = -1.0", "`guidance_scale`"),
            ("dtype = \"half\"", "`dtype`"),
            ("steps = 2", "steps"),
            ("call_kwargs = { generator = 1 }", "`generator`"),
        ] {
            let t: toml::Table = toml::from_str(bad).expect("toml");
            let e = DiffusionOptions::parse(&t).and_then(|o| o.call_kwargs().map(|_| ()));
            let e = format!("{:#}", e.expect_err(bad));
            assert!(e.contains(want), "{bad}: {e}");
        }
        let t: toml::Table = toml::from_str(
            "num_inference_steps = 2\nheight = 32\nwidth = 64\nguidance_scale = 5.0\nseed = 9\n\
             call_kwargs = { negative_prompt = \"blurry\", height = 8 }",
        )
        .expect("toml");
        let o = DiffusionOptions::parse(&t).expect("valid");
        let k = o.call_kwargs().expect("kwargs");
        assert_eq!(k["num_inference_steps"], 2);
        assert_eq!(k["height"], 32, "the named option wins over call_kwargs");
        assert_eq!(k["width"], 64);
        assert_eq!(k["guidance_scale"], 5.0);
        assert_eq!(k["negative_prompt"], "blurry");
        assert_eq!(o.seed, Some(9));
    }

    #[test]
    fn a_folder_without_model_index_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sd")).expect("mkdir");
        let ctx = SuiteContext {
            base_dir: dir.path().into(),
            images_dir: Some(dir.path().join("images")),
            python: Some("python3".into()),
            ..Default::default()
        };
        let m = missing_diffusion(Some("sd"), &toml::Table::new(), &ctx).expect("missing");
        assert!(
            m.contains(&format!("{}", dir.path().join("sd").display()))
                && m.contains("no model_index.json"),
            "{m}"
        );
        let e = format!(
            "{:#}",
            diffusion_spec(Some("sd"), &toml::Table::new(), &ctx).unwrap_err()
        );
        assert!(e.contains("no model_index.json"), "{e}");
        std::fs::write(dir.path().join("sd/model_index.json"), "{}").expect("write");
        let s = diffusion_spec(Some("sd"), &toml::Table::new(), &ctx).expect("spec");
        assert_eq!((s.seed, s.width, s.device.as_deref()), (0, None, None));
        assert!(s.spawn.env.contains(&("HF_HUB_OFFLINE".into(), "1".into())));
        let ctx = SuiteContext {
            images_dir: None,
            ..ctx
        };
        let m = missing_diffusion(Some("sd"), &toml::Table::new(), &ctx).expect("missing");
        assert!(m.contains("no folder for generated images"), "{m}");
    }
}
