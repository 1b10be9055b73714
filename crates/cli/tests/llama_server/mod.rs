//! A real OpenAI-compatible server for the tests: llama.cpp's, from the PyPI package
//! `llama-cpp-python[server]` (.ci/run installs it), serving the SmolLM2 GGUF on a free
//! loopback port. Started, waited for (`/v1/models` lists the model), and stopped when dropped.
//! Missing Python or llama_cpp follows crates/testkit's rule: the test fails (in CI always).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The pinned version `.ci/run` installs.
pub const LLAMA_CPP_PYTHON: &str = "0.3.36";

pub struct LlamaServer {
    child: Child,
    pub base_url: String,
    pub log: PathBuf,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the server on `gguf` under the name `alias`, logging into `dir`.
pub fn start(gguf: &Path, alias: &str, dir: &Path) -> Option<LlamaServer> {
    let importable = Command::new("python3")
        .args(["-c", "import llama_cpp.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !importable {
        return powerhungry_testkit::missing(
            "python3 with llama-cpp-python[server] (llama.cpp's OpenAI-compatible server)",
            &format!("pip install 'llama-cpp-python[server]=={LLAMA_CPP_PYTHON}' (.ci/run does)"),
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let log = dir.join("llama-server.log");
    let out = std::fs::File::create(&log).expect("server log");
    let err = out.try_clone().expect("server log");
    let child = Command::new("python3")
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(gguf)
        .args(["--model_alias", alias, "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args(["--n_ctx", "2048", "--n_threads", "2"])
        // By default a new request interrupts the stream in flight (seen here as streams that
        // end without a finish_reason): queue them instead, so concurrent load is served.
        .args(["--interrupt_requests", "False"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("python3 starts");
    let mut server = LlamaServer {
        child,
        base_url: format!("http://127.0.0.1:{port}/v1"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let want = format!("\"id\":\"{alias}\"");
    loop {
        if let Some(body) = get(port, "/v1/models") {
            if body.replace(' ', "").contains(&want) {
                return Some(server);
            }
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "llama_cpp.server exited ({status}) before it was ready:\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "llama_cpp.server not ready after 120 s:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A plain HTTP/1.0 GET on loopback: the body, or None when nothing answers yet.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}
