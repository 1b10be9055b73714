//! The client against a hostile server on loopback (tests/server): every fault is a clear
//! per-request error or a retry, counted on its prediction, and the batch goes on; bad
//! configuration is refused before anything is measured.

mod server;

use powerhungry_backend_openai::{preflight, Config, OpenAiBackend};
use powerhungry_tasks::{Backend, Example, Input, Output, Prediction, TaskName};
use server::Models;
use std::sync::atomic::Ordering;

fn config(base_url: &str, extra: &str) -> Config {
    let text = format!(
        "base_url = \"{base_url}\"\nprompt = {{ template = \"{{text}}\" }}\ntimeout = 2.0\n{extra}"
    );
    let table: toml::Table = toml::from_str(&text).expect("options");
    Config::from_options(Some("smol"), &table).expect("valid options")
}

fn examples(texts: &[&str]) -> Vec<Example> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Example {
            id: i.to_string(),
            input: Input::Text(t.to_string()),
            label: Some("positive".into()),
            gold: None,
        })
        .collect()
}

fn run(cfg: Config, texts: &[&str]) -> Vec<Prediction> {
    let mut b = OpenAiBackend::connect(cfg).expect("connects");
    b.prepare(
        TaskName::TextClassification,
        &["negative".to_string(), "positive".to_string()],
    )
    .expect("prepare");
    let ex = examples(texts);
    let refs: Vec<&Example> = ex.iter().collect();
    b.predict(&refs).expect("a batch with faults still answers")
}

fn error(p: &Prediction) -> String {
    p.request
        .as_ref()
        .and_then(|r| r.error.clone())
        .unwrap_or_default()
}

#[test]
fn every_fault_is_a_counted_per_request_error_and_the_batch_goes_on() {
    let srv = server::start(Models::OpenAi, None);
    let texts = [
        "ok positive",
        "stall",
        "drop",
        "http500",
        "retry429 positive",
        "malformed",
        "endless",
        "nousage positive",
        "ok negative",
    ];
    let preds = run(config(&srv.base_url, "concurrency = 3"), &texts);
    assert_eq!(preds.len(), texts.len());
    let want_errors = [
        (1, "timeout of 2.0 s"),
        (2, "mid-stream"),
        (3, "HTTP 500: internal error: out of memory"),
        (5, "malformed stream"),
        (6, "endless stream"),
    ];
    for (i, want) in want_errors {
        let e = error(&preds[i]);
        assert!(e.contains(want), "{}: {e}", texts[i]);
        assert!(
            matches!(&preds[i].output, Output::Unparsed(t) if t.starts_with("<request failed")),
            "{:?}",
            preds[i].output
        );
    }
    // The good ones: parsed, with the server's usage, TTFT and the gaps between 5 chunks.
    for (i, label) in [(0, "positive"), (4, "positive"), (8, "negative")] {
        let p = &preds[i];
        assert_eq!(p.output, Output::Label(label.into()), "{}", texts[i]);
        let r = p.request.as_ref().expect("stats");
        assert_eq!(r.error, None);
        assert_eq!((p.input_tokens, p.output_tokens), (7, 5));
        assert_eq!(r.tokens_from, "usage");
        let ttft = r.ttft_s.expect("ttft");
        assert!(ttft > 0.0 && ttft <= r.e2e_s, "{r:?}");
        assert_eq!(r.inter_token_s.len(), 4);
    }
    // 429 with Retry-After: 1 was retried once, after waiting.
    let r = preds[4].request.as_ref().expect("stats");
    assert_eq!(r.retries, 1);
    assert!(r.e2e_s >= 1.0, "{r:?}");
    // No usage: output tokens counted as streamed chunks, and said so.
    let p = &preds[7];
    assert_eq!(p.output, Output::Label("positive".into()));
    let r = p.request.as_ref().expect("stats");
    assert_eq!(
        (r.tokens_from.as_str(), p.input_tokens, p.output_tokens),
        ("stream-chunks", 0, 5)
    );
    // The stalled stream was ended by the timeout, not waited out.
    let r = preds[1].request.as_ref().expect("stats");
    assert!(r.e2e_s >= 2.0 && r.e2e_s < 10.0, "{r:?}");
    // 9 prompts, one of them sent twice.
    assert_eq!(srv.seen.requests.load(Ordering::SeqCst), 10);
}

#[test]
fn without_streaming_and_on_completions_answers_and_usage_are_read() {
    let srv = server::start(Models::OpenAi, None);
    for extra in [
        "stream = false",
        "stream = false\napi = \"completions\"",
        "api = \"completions\"",
    ] {
        let preds = run(
            config(&srv.base_url, extra),
            &["ok positive", "nousage negative", "http500"],
        );
        assert_eq!(preds[0].output, Output::Label("positive".into()), "{extra}");
        assert_eq!((preds[0].input_tokens, preds[0].output_tokens), (7, 5));
        assert_eq!(preds[1].output, Output::Label("negative".into()), "{extra}");
        let r = preds[1].request.as_ref().expect("stats");
        let streamed = !extra.contains("stream = false");
        assert_eq!(
            r.tokens_from,
            if streamed { "stream-chunks" } else { "unknown" },
            "{extra}"
        );
        assert_eq!(r.ttft_s.is_some(), streamed, "{extra}");
        assert!(error(&preds[2]).contains("HTTP 500"), "{extra}");
    }
}

#[test]
fn concurrency_is_the_number_in_flight() {
    for (concurrency, want) in [(1, 1), (4, 4)] {
        let srv = server::start(Models::OpenAi, None);
        let texts = ["slow positive"; 8];
        let preds = run(
            config(&srv.base_url, &format!("concurrency = {concurrency}")),
            &texts,
        );
        assert!(preds
            .iter()
            .all(|p| p.output == Output::Label("positive".into())));
        assert_eq!(srv.seen.max_in_flight.load(Ordering::SeqCst), want);
    }
}

#[test]
fn a_request_rate_sends_on_a_seeded_poisson_schedule() {
    let srv = server::start(Models::OpenAi, None);
    let n = 12;
    let texts = vec!["positive"; n];
    let cfg = config(
        &srv.base_url,
        "concurrency = 8\nrequest_rate = 40.0\narrival_seed = 3",
    );
    let t0 = std::time::Instant::now();
    let preds = run(cfg, &texts);
    let elapsed = t0.elapsed();
    assert!(preds
        .iter()
        .all(|p| p.output == Output::Label("positive".into())));
    // The last request cannot have been sent before its arrival time, so the batch lasts at
    // least that long (a lower bound: nothing here depends on how fast the machine is).
    let schedule = powerhungry_backend_openai::arrivals::poisson_schedule(40.0, n, 3);
    let last = *schedule.last().expect("a schedule");
    assert!(elapsed >= last, "{elapsed:?} < last arrival {last:?}");
    // No request reached the server before its arrival time (the batch starts after t0).
    let arrivals = srv.seen.arrivals.lock().expect("arrivals").clone();
    assert_eq!(arrivals.len(), n);
    for (k, t) in arrivals.iter().enumerate() {
        assert!(
            t.duration_since(t0) >= schedule[k],
            "request {k} arrived {:?} after the start, due {:?}",
            t.duration_since(t0),
            schedule[k]
        );
    }
    // A rate that is not one is refused.
    assert!(Config::from_options(
        Some("m"),
        &toml::from_str("base_url = \"http://x/v1\"\nrequest_rate = 0").expect("toml")
    )
    .is_err());
}

#[test]
fn the_api_key_comes_from_the_named_variable_and_is_never_shown() {
    let srv = server::start(Models::OpenAi, Some("sekrit-123"));
    std::env::set_var("POWERHUNGRY_TEST_OPENAI_KEY", "sekrit-123");
    let cfg = config(
        &srv.base_url,
        "api_key_env = \"POWERHUNGRY_TEST_OPENAI_KEY\"",
    );
    assert!(!format!("{cfg:?}").contains("sekrit"));
    let preds = run(cfg.clone(), &["ok positive"]);
    assert_eq!(preds[0].output, Output::Label("positive".into()));
    let seen = srv.seen.authorization.lock().expect("lock").clone();
    assert!(
        seen.iter().all(|a| a == "Bearer sekrit-123") && seen.len() >= 2,
        "{seen:?}"
    );
    // Without the key the server refuses, and the error names the status, not the key.
    let no_key = config(&srv.base_url, "");
    let e = format!("{:#}", preflight(&no_key).unwrap_err());
    assert!(e.contains("HTTP 401") && !e.contains("sekrit"), "{e}");
}

#[test]
fn bad_configuration_is_refused_before_anything_runs() {
    // Unreachable: a port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let e = format!(
        "{:#}",
        preflight(&config(&format!("http://127.0.0.1:{port}/v1"), "")).unwrap_err()
    );
    assert!(
        e.contains("cannot reach") && e.contains(&port.to_string()),
        "{e}"
    );

    let srv = server::start(Models::OpenAi, None);
    let mut wrong = config(&srv.base_url, "");
    wrong.model = "llama-70b".into();
    let e = format!("{:#}", preflight(&wrong).unwrap_err());
    assert!(
        e.contains("does not serve model `llama-70b`; it serves: smol"),
        "{e}"
    );

    let other = server::start(Models::OtherDialect, None);
    let e = format!("{:#}", preflight(&config(&other.base_url, "")).unwrap_err());
    assert!(e.contains("not in the OpenAI dialect"), "{e}");
    let notfound = server::start(Models::NotFound, None);
    let e = format!(
        "{:#}",
        preflight(&config(&notfound.base_url, "")).unwrap_err()
    );
    assert!(e.contains("HTTP 404") && e.contains("ends in /v1"), "{e}");

    let missing_key = config(
        &srv.base_url,
        "api_key_env = \"POWERHUNGRY_TEST_UNSET_KEY\"",
    );
    let e = format!("{:#}", preflight(&missing_key).unwrap_err());
    assert!(e.contains("POWERHUNGRY_TEST_UNSET_KEY is not set"), "{e}");
    // Nothing was sent to the completion endpoints.
    assert_eq!(srv.seen.requests.load(Ordering::SeqCst), 0);
}
