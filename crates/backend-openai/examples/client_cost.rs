//! What our OpenAI client costs the machine it runs on: requests per second and client CPU per
//! request against a loopback server that answers at once (issue 11's benchmark; the Python
//! side is scripts/openai_client_cost.py, both driven by scripts/bench-openai-client.sh).
//!
//! ```sh
//! client_cost serve PORT_FILE            # the instant server, in its own process
//! client_cost run URL REQUESTS CONCURRENCY stream|plain
//! ```
//!
//! `run` prints one JSON line: wall seconds, this process's user+system CPU seconds (getrusage,
//! so the server's CPU is not in it), requests per second and per CPU-second, failures.

use powerhungry_backend_openai::client::Client;
use powerhungry_backend_openai::config::Config;
use powerhungry_backend_openai::load;
use powerhungry_tasks::prompts::Prompt;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(args.get(1).ok_or("serve PORT_FILE")?),
        Some("run") if args.len() == 5 => run(
            &args[1],
            args[2].parse()?,
            args[3].parse()?,
            match args[4].as_str() {
                "stream" => true,
                "plain" => false,
                other => return Err(format!("stream or plain, not {other}").into()),
            },
        ),
        _ => Err(
            "usage: client_cost serve PORT_FILE | run URL REQUESTS CONCURRENCY stream|plain".into(),
        ),
    }
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(ru.ru_utime) + s(ru.ru_stime)
}

fn run(url: &str, requests: usize, concurrency: usize, stream: bool) -> Result<(), Error> {
    let options: toml::Table = toml::from_str(&format!(
        "base_url = {url:?}\nstream = {stream}\nconcurrency = {concurrency}\nmax_tokens = 4\n\
         timeout = 30\nprompt = \"study\""
    ))?;
    let client = Client::new(Config::from_options(Some("instant"), &options)?)?;
    let prompts: Vec<Prompt> = (0..requests)
        .map(|i| Prompt {
            system: None,
            user: format!("what is the binary sentiment of sentence {i}?"),
        })
        .collect();
    // One current-thread runtime, as the backend runs the client.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let answers = rt.block_on(load::run(&client, prompts, 4, concurrency, None))?;
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let failed = answers.iter().filter(|a| a.stats.error.is_some()).count();
    let tokens: u32 = answers.iter().map(|a| a.completion_tokens).sum();
    println!(
        "{{\"client\":\"powerhungry\",\"requests\":{requests},\"concurrency\":{concurrency},\
         \"stream\":{stream},\"wall_s\":{wall:.4},\"cpu_s\":{cpu:.4},\"requests_per_s\":{:.1},\
         \"requests_per_cpu_s\":{:.1},\"failed\":{failed},\"completion_tokens\":{tokens}}}",
        requests as f64 / wall,
        requests as f64 / cpu.max(1e-9)
    );
    Ok(())
}

/// An OpenAI-compatible `/v1/chat/completions` and `/v1/completions` that answers at once:
/// four content chunks then `usage` when streamed, one JSON body when not; keep-alive.
fn serve(port_file: &str) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        std::fs::write(port_file, listener.local_addr()?.port().to_string())?;
        loop {
            let (socket, _) = listener.accept().await?;
            let _ = socket.set_nodelay(true);
            tokio::spawn(connection(socket));
        }
    })
}

async fn connection(mut socket: TcpStream) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        // Headers, then the body by Content-Length.
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
        buf.drain(..head_end + length);
        let streamed = body.contains("\"stream\":true");
        let (kind, payload) = if streamed {
            ("text/event-stream", sse_body())
        } else {
            ("application/json", json_body())
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn sse_body() -> String {
    let mut out = String::new();
    for word in ["pos", "it", "ive", "."] {
        out.push_str(&format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"instant\",\
             \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    out.push_str(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"instant\",\
         \"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\
         \"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}\n\n\
         data: [DONE]\n\n",
    );
    out
}

fn json_body() -> String {
    "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"instant\",\"choices\":[{\"index\":0,\
     \"message\":{\"role\":\"assistant\",\"content\":\"positive.\"},\"finish_reason\":\"length\"}],\
     \"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}"
        .to_string()
}
