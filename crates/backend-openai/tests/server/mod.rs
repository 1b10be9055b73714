//! A hostile OpenAI-compatible server on loopback, for the client's tests. Each request's
//! prompt names what the server does with it (`ok positive`, `stall`, `drop`, `http500`,
//! `retry429 <id>`, `malformed`, `endless`, `nousage positive`, `slow positive`), so one batch
//! can hold every fault. It runs on its own thread and runtime, records what it saw, and stops
//! when the test drops it.

use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What `/v1/models` answers.
#[derive(Clone, Copy, PartialEq)]
pub enum Models {
    /// `{"object":"list","data":[{"id":"smol"}]}`.
    OpenAi,
    /// 404 with an HTML page (a server of another dialect, or a base URL without /v1).
    NotFound,
    /// Ollama's native listing (`{"models": [...]}`), not the OpenAI one.
    OtherDialect,
}

#[derive(Default)]
pub struct Seen {
    pub requests: AtomicUsize,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub authorization: Mutex<Vec<String>>,
    retried: Mutex<HashSet<String>>,
    /// When each completion request arrived (its headers read), in arrival order.
    pub arrivals: Mutex<Vec<std::time::Instant>>,
}

pub struct Server {
    pub base_url: String,
    pub seen: Arc<Seen>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start the server on 127.0.0.1 at a free port.
pub fn start(models: Models, require_key: Option<&'static str>) -> Server {
    let seen = Arc::new(Seen::default());
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let s = seen.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test server runtime");
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            port_tx
                .send(listener.local_addr().expect("addr").port())
                .expect("send port");
            let accept = async {
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(connection(sock, s.clone(), models, require_key));
                }
            };
            tokio::select! {
                _ = accept => {}
                _ = stop_rx => {}
            }
        });
    });
    let port = port_rx.recv().expect("server port");
    Server {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        seen,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

/// Read one request: (request line, headers lower-cased, body). None at EOF.
async fn read_request(sock: &mut TcpStream) -> Option<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let first = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&byte[..n]);
    }
    Some((first, headers, body))
}

async fn connection(
    mut sock: TcpStream,
    seen: Arc<Seen>,
    models: Models,
    require_key: Option<&'static str>,
) {
    while let Some((line, headers, body)) = read_request(&mut sock).await {
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone());
        if let Some(a) = &auth {
            seen.authorization.lock().expect("lock").push(a.clone());
        }
        if let Some(key) = require_key {
            if auth.as_deref() != Some(&format!("Bearer {key}")) {
                let _ = respond(
                    &mut sock,
                    401,
                    "application/json",
                    br#"{"error":"bad key"}"#,
                )
                .await;
                continue;
            }
        }
        let keep = if line.starts_with("GET /v1/models") {
            match models {
                Models::OpenAi => {
                    respond(
                        &mut sock,
                        200,
                        "application/json",
                        br#"{"object":"list","data":[{"id":"smol","object":"model"}]}"#,
                    )
                    .await
                }
                Models::NotFound => {
                    respond(&mut sock, 404, "text/html", b"<html>Not Found</html>").await
                }
                Models::OtherDialect => {
                    respond(
                        &mut sock,
                        200,
                        "application/json",
                        br#"{"models":[{"name":"smol:latest"}]}"#,
                    )
                    .await
                }
            }
        } else if line.starts_with("POST /v1/chat/completions")
            || line.starts_with("POST /v1/completions")
        {
            seen.requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut a) = seen.arrivals.lock() {
                a.push(std::time::Instant::now());
            }
            let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let r = completion(&mut sock, &seen, &body, line.contains("chat")).await;
            seen.in_flight.fetch_sub(1, Ordering::SeqCst);
            r
        } else {
            respond(&mut sock, 404, "text/plain", b"no such path").await
        };
        if !keep {
            return;
        }
    }
}

/// Answer a plain response; true to keep the connection.
async fn respond(sock: &mut TcpStream, status: u16, ctype: &str, body: &[u8]) -> bool {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.is_ok() && sock.write_all(body).await.is_ok()
}

async fn chunk(sock: &mut TcpStream, data: &str) -> bool {
    let c = format!("{:x}\r\n{data}\r\n", data.len());
    sock.write_all(c.as_bytes()).await.is_ok()
}

fn event(chat: bool, piece: &str, finish: Option<&str>) -> String {
    let choice = if chat {
        json!({"index": 0, "delta": {"content": piece}, "finish_reason": finish})
    } else {
        json!({"index": 0, "text": piece, "finish_reason": finish})
    };
    format!("data: {}\n\n", json!({"id": "x", "choices": [choice]}))
}

/// The prompt's text: the last message's content, or `prompt`.
fn prompt_of(body: &[u8]) -> (String, Value) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = v["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .or_else(|| v["prompt"].as_str())
        .unwrap_or_default()
        .to_string();
    (text, v)
}

async fn completion(sock: &mut TcpStream, seen: &Seen, body: &[u8], chat: bool) -> bool {
    let (prompt, req) = prompt_of(body);
    let stream = req["stream"].as_bool().unwrap_or(false);
    let word = if prompt.contains("positive") {
        "positive"
    } else {
        "negative"
    };
    let pieces = ["The", " answer", " is", " "];
    let scenario = prompt
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    match scenario.as_str() {
        "http500" => {
            return respond(sock, 500, "text/plain", b"internal error: out of memory").await
        }
        "retry429" => {
            let first = seen.retried.lock().expect("lock").insert(prompt.clone());
            if first {
                let head = "HTTP/1.1 429 Too Many\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n";
                return sock.write_all(head.as_bytes()).await.is_ok();
            }
        }
        "slow" => tokio::time::sleep(Duration::from_millis(150)).await,
        _ => {}
    }
    let usage = json!({"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12});
    if !stream {
        let text = format!("{}{word}", pieces.concat());
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": text, "finish_reason": "stop"})
        };
        let mut v = json!({"id": "x", "choices": [choice]});
        if scenario != "nousage" {
            v["usage"] = usage;
        }
        return respond(sock, 200, "application/json", v.to_string().as_bytes()).await;
    }
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    for p in pieces {
        if !chunk(sock, &event(chat, p, None)).await {
            return false;
        }
    }
    match scenario.as_str() {
        // Headers and a few tokens, then silence: the client's timeout must end it.
        "stall" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return false;
        }
        // The connection closes in the middle of the chunked body.
        "drop" => return false,
        "malformed" => {
            chunk(sock, "this is not an event\n\n").await;
        }
        // Tokens until the client hangs up (bounded, so the test server stops by itself).
        "endless" => {
            for _ in 0..100_000 {
                if !chunk(sock, &event(chat, " more", None)).await {
                    return false;
                }
            }
            return false;
        }
        _ => {}
    }
    let mut ok = chunk(sock, &event(chat, word, Some("stop"))).await;
    if scenario != "nousage" && req["stream_options"]["include_usage"] == true {
        let u = json!({"id": "x", "choices": [], "usage": usage});
        ok &= chunk(sock, &format!("data: {u}\n\n")).await;
    }
    ok &= chunk(sock, "data: [DONE]\n\n").await;
    ok && sock.write_all(b"0\r\n\r\n").await.is_ok()
}
