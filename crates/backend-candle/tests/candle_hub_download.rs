//! The opt-in download (`allow_download`) against a stand-in for the hub's `resolve` endpoint
//! on loopback, serving the tiny XLM-R sentence-transformers folder: the model's three files
//! and sentence-transformers' own (modules.json, the pooling folder it names,
//! sentence_bert_config.json, tokenizer_config.json) land in the cache, so the downloaded model
//! embeds as the folder does (the 128-token limit included); files a repository lacks (404)
//! are simply absent.

use powerhungry_backend_candle::tiny_xlmr::{self, MAX_SEQ_LENGTH, REFERENCE_SEED};
use powerhungry_backend_candle::{resolve, CandleEmbedder, ResolveOptions};
use powerhungry_tasks::TextEmbedder;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Serve `root` as repository `org/name` at revision `main`, as hf-hub's sync client reads it:
/// `GET /org/name/resolve/main/FILE` with a `Range` header answers 206 with the range, an ETag
/// (the content's sha256), `x-repo-commit` and `Content-Range`; a file not there is 404.
/// Returns the endpoint and the log of requested files.
fn serve(root: PathBuf) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream, &root, &seen);
        }
    });
    (endpoint, log)
}

fn answer(mut stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = v.trim().strip_prefix("bytes=").map(String::from);
            }
        }
    }
    let file = path
        .strip_prefix("/org/name/resolve/main/")
        .map(|f| f.to_string());
    if let Some(f) = &file {
        log.lock().expect("log").push(f.clone());
    }
    let bytes = file
        .filter(|f| !f.contains(".."))
        .and_then(|f| std::fs::read(root.join(f)).ok());
    let Some(bytes) = bytes else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let total = bytes.len();
    let (start, end) = match range.as_deref().and_then(|r| r.split_once('-')) {
        Some((a, b)) => (
            a.parse().unwrap_or(0),
            b.parse::<usize>()
                .map(|b| b + 1)
                .unwrap_or(total)
                .min(total),
        ),
        None => (0, total),
    };
    let body = &bytes[start.min(end)..end];
    let etag: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{total}\r\n\
         ETag: \"{etag}\"\r\nx-repo-commit: {COMMIT}\r\nConnection: close\r\n\r\n",
        body.len(),
        end.saturating_sub(1)
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn download(endpoint: &str, cache: &Path) -> powerhungry_backend_candle::ModelFiles {
    let opts = ResolveOptions {
        hub_cache: Some(cache.to_path_buf()),
        allow_download: true,
        endpoint: Some(endpoint.to_string()),
        ..Default::default()
    };
    resolve("org/name", &opts).expect("downloaded")
}

#[test]
fn a_download_brings_the_sentence_transformers_files_and_embeds_as_the_folder() {
    let repo = tempfile::tempdir().expect("tempdir");
    tiny_xlmr::write(repo.path(), REFERENCE_SEED).expect("tiny XLM-R");
    let (endpoint, log) = serve(repo.path().to_path_buf());
    let cache = tempfile::tempdir().expect("cache");
    let files = download(&endpoint, cache.path());
    assert!(files.source.contains("downloaded"), "{}", files.source);
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
        "tokenizer_config.json",
        "1_Pooling/config.json",
    ] {
        assert!(
            files.dir.join(f).is_file(),
            "{f} not in {}",
            files.dir.display()
        );
    }
    let local = resolve(&repo.path().to_string_lossy(), &ResolveOptions::default()).expect("local");
    let texts = tiny_xlmr::reference_texts();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let want = CandleEmbedder::load(&local)
        .expect("local loads")
        .embed(&texts)
        .expect("embed");
    let got = CandleEmbedder::load(&files)
        .expect("download loads")
        .embed(&texts)
        .expect("embed");
    assert_eq!(got, want);
    // The long text is cut at sentence_bert_config.json's 128, not the tokenizer's 512.
    assert_eq!(got.last().map(|g| g.1), Some(MAX_SEQ_LENGTH as u32));
    assert!(log
        .lock()
        .expect("log")
        .iter()
        .any(|f| f == "1_Pooling/config.json"));
}

#[test]
fn files_the_repository_lacks_are_left_out_of_a_download() {
    let repo = tempfile::tempdir().expect("tempdir");
    tiny_xlmr::write(repo.path(), REFERENCE_SEED).expect("tiny XLM-R");
    for f in ["modules.json", "sentence_bert_config.json"] {
        std::fs::remove_file(repo.path().join(f)).expect("remove");
    }
    let (endpoint, log) = serve(repo.path().to_path_buf());
    let cache = tempfile::tempdir().expect("cache");
    let files = download(&endpoint, cache.path());
    assert!(!files.dir.join("modules.json").exists());
    assert!(files.dir.join("tokenizer_config.json").is_file());
    let asked = log.lock().expect("log").clone();
    assert!(
        asked.iter().any(|f| f == "sentence_bert_config.json"),
        "{asked:?}"
    );
    // No modules.json: no pooling folder to ask for; the model is a plain one (mean pooling)
    // whose limit is tokenizer_config.json's 512, capped by the 512 positions.
    assert!(
        !asked.iter().any(|f| f.starts_with("1_Pooling")),
        "{asked:?}"
    );
    let mut m = CandleEmbedder::load(&files).expect("loads");
    let long = tiny_xlmr::reference_texts().pop().expect("texts");
    let n = m.embed(&[long.as_str()]).expect("embed")[0].1;
    assert!(n as usize > MAX_SEQ_LENGTH, "{n}");
}
