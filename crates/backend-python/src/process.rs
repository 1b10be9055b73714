//! The worker process and its line protocol: spawn the embedded Python worker, send one JSON
//! request a line, read one JSON answer a line (with a timeout per call), keep the last lines
//! of its stderr for errors. Any protocol fault (death, silence, garbage, a wrong id) kills the
//! worker: its state can no longer be trusted, so every later call fails at once.

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The worker's source, written to a temporary file at run time: a user needs only Python.
pub const WORKER_SOURCE: &str = include_str!("../../../python/powerhungry_worker.py");
/// The protocol version this harness speaks (the worker's `PROTOCOL`).
pub const PROTOCOL_VERSION: u64 = 2;
/// Lines of the worker's stderr kept for error messages.
const STDERR_LINES: usize = 30;

/// How to start a worker.
#[derive(Debug, Clone)]
pub struct Spawn {
    /// The Python interpreter (a path or a name looked up on PATH).
    pub python: String,
    /// The worker script; None: the embedded one. Tests point it at faulty workers.
    pub script: Option<std::path::PathBuf>,
    /// Extra environment (CUDA_VISIBLE_DEVICES, HF_HUB_OFFLINE).
    pub env: Vec<(String, String)>,
    /// A file the worker's whole stderr is appended to (the run's log: `bench` puts it in
    /// `<store>.logs/`); None: only the last lines are kept, for error messages.
    pub log: Option<std::path::PathBuf>,
}

/// A running worker.
pub struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<std::io::Result<String>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    next_id: u64,
    /// Why the worker is unusable, once a call has failed at the protocol level.
    broken: Option<String>,
    python: String,
    log: Option<std::path::PathBuf>,
    // Held so the embedded script's file lives as long as the process.
    _script: Option<tempfile::NamedTempFile>,
}

/// Whether `python` can be started: a path to a file, or a name found on PATH.
pub fn python_found(python: &str) -> bool {
    let p = Path::new(python);
    if p.components().count() > 1 {
        return p.is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(python).is_file()))
}

impl Worker {
    pub fn spawn(spec: &Spawn) -> Result<Worker> {
        let (script_path, script_file) = match &spec.script {
            Some(p) => (p.clone(), None),
            None => {
                let mut f = tempfile::Builder::new()
                    .prefix("powerhungry_worker_")
                    .suffix(".py")
                    .tempfile()
                    .map_err(|e| anyhow!("writing the Python worker to a temporary file: {e}"))?;
                f.write_all(WORKER_SOURCE.as_bytes())
                    .and_then(|()| f.flush())
                    .map_err(|e| {
                        anyhow!("writing the Python worker to {}: {e}", f.path().display())
                    })?;
                (f.path().to_path_buf(), Some(f))
            }
        };
        let mut cmd = Command::new(&spec.python);
        cmd.arg("-u")
            .arg(&script_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow!(
                    "Python not found: `{}` cannot be started ({e}); install Python 3 with \
                     torch and transformers, or name the interpreter with --python PATH, \
                     POWERHUNGRY_PYTHON or the model's `python` option",
                    spec.python
                )
            } else {
                anyhow!("starting the Python worker with `{}`: {e}", spec.python)
            }
        })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("worker stdout"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow!("worker stderr"))?;
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES)));
        let tail = Arc::clone(&stderr_tail);
        let mut log = match &spec.log {
            Some(path) => Some(open_log(path)?),
            None => None,
        };
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if let Some(f) = log.as_mut() {
                    // A log that cannot be written stops being written; the tail goes on.
                    if writeln!(f, "{line}").is_err() {
                        log = None;
                    }
                }
                if let Ok(mut t) = tail.lock() {
                    if t.len() == STDERR_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        });
        Ok(Worker {
            log: spec.log.clone(),
            stdin: child.stdin.take(),
            child,
            answers,
            stderr_tail,
            next_id: 1,
            broken: None,
            python: spec.python.clone(),
            _script: script_file,
        })
    }

    /// The interpreter this worker runs on.
    pub fn python(&self) -> &str {
        &self.python
    }

    /// The last lines the worker wrote to stderr, and where the whole of it is, if logged.
    pub fn stderr_tail(&self) -> String {
        // Give the reader thread a moment to drain what a dying worker wrote last.
        std::thread::sleep(Duration::from_millis(50));
        let tail = match self.stderr_tail.lock() {
            Ok(t) => t.iter().cloned().collect::<Vec<_>>().join("\n"),
            Err(_) => String::new(),
        };
        match &self.log {
            Some(p) => format!("{tail}\n(the worker's whole stderr: {})", p.display()),
            None => tail,
        }
    }

    /// Send `op` with `body`'s fields and wait up to `timeout` for its answer. An answer with
    /// `ok: false` is an error carrying the worker's message (and, for a missing package, the
    /// pip command that installs it).
    pub fn call(&mut self, op: &str, body: Map<String, Value>, timeout: Duration) -> Result<Value> {
        if let Some(why) = &self.broken {
            bail!("the Python worker is no longer usable: {why}");
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut req = body;
        req.insert("id".into(), json!(id));
        req.insert("op".into(), json!(op));
        let line = format!("{}\n", Value::Object(req));
        let sent = match self.stdin.as_mut() {
            Some(s) => s.write_all(line.as_bytes()).and_then(|()| s.flush()),
            None => Err(std::io::Error::other("stdin closed")),
        };
        if let Err(e) = sent {
            return Err(self.fail(format!(
                "`{op}` could not be sent ({e}): the worker has exited"
            )));
        }
        let answer = match self.answers.recv_timeout(timeout) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(self.fail(format!("reading its answer to `{op}`: {e}"))),
            Err(RecvTimeoutError::Timeout) => {
                return Err(self.fail(format!(
                    "no answer to `{op}` within {:.1} s (the per-call timeout, option \
                     `timeout_s`): the worker hangs or the call is slower than allowed",
                    timeout.as_secs_f64()
                )))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.exit_status();
                return Err(self.fail(format!(
                    "the worker exited ({status}) before answering `{op}`"
                )));
            }
        };
        let value: Value = match serde_json::from_str(&answer) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                let shown: String = answer.chars().take(200).collect();
                return Err(self.fail(format!(
                    "the worker wrote a line that is not the protocol's (a JSON object) in \
                     answer to `{op}`: {shown:?}"
                )));
            }
        };
        if value.get("id") != Some(&json!(id)) {
            return Err(self.fail(format!(
                "the worker answered request {id} (`{op}`) with id {}",
                value.get("id").cloned().unwrap_or(Value::Null)
            )));
        }
        if value.get("ok") != Some(&Value::Bool(true)) {
            let msg = value
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no error message");
            if let Some(pkg) = value.get("missing_package").and_then(|p| p.as_str()) {
                bail!(
                    "the Python worker's `{op}` failed: {msg}; install it with `{} -m pip \
                     install {}`",
                    self.python,
                    crate::pins::pip_spec(pkg)
                );
            }
            bail!(
                "the Python worker's `{op}` failed: {msg}\nworker stderr (last lines):\n{}",
                self.stderr_tail()
            );
        }
        Ok(value)
    }

    fn exit_status(&mut self) -> String {
        for _ in 0..20 {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s.to_string();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        "still running".into()
    }

    /// Mark the worker broken, stop it, and build the error with its stderr's tail.
    fn fail(&mut self, why: String) -> anyhow::Error {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.broken = Some(why.clone());
        anyhow!(
            "Python worker ({}): {why}\nworker stderr (last lines):\n{}",
            self.python,
            self.stderr_tail()
        )
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.broken.is_none() {
            // Closing stdin ends the worker's read loop; kill only if it lingers.
            self.stdin.take();
            for _ in 0..40 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Open (creating it and its folder) the file a worker's stderr is appended to.
fn open_log(path: &Path) -> Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow!("{}: cannot create the log folder: {e}", dir.display()))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| anyhow!("{}: cannot open the worker's log: {e}", path.display()))
}
