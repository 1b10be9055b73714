//! The agent: one node's meter behind HTTP. Windows are named by the bench (unique per run and
//! repetition); the meter reads its counters at each edge exactly as it does in-process. The
//! meter's own "total" window, open since the agent started, backs `/metrics`' monotonic
//! energy counters.

use crate::metrics;
use crate::protocol::{Opened, Refusal, Sensors, Window, PROTOCOL_VERSION};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use powerhungry_meter::{Meter, WindowId, WindowReport};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Closed windows kept for `GET /v1/windows/{name}` (a bench that lost a close reply can read
/// it again); older ones are forgotten.
const KEEP_CLOSED: usize = 256;

/// What the agent serves with.
pub struct AgentOptions {
    /// The bearer token every request must carry.
    pub token: String,
    /// The node's name in replies and component names.
    pub node: String,
}

struct Agent {
    meter: Meter,
    token: String,
    node: String,
    open: HashMap<String, WindowId>,
    closed: VecDeque<(String, WindowReport)>,
}

type Shared = Arc<Mutex<Agent>>;

/// Serve `meter` on `listener` until `shutdown` resolves. One thread: requests are short (a
/// counter read), and the agent's own cost is part of what it reports.
pub fn serve(
    meter: Meter,
    listener: std::net::TcpListener,
    options: AgentOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let agent: Shared = Arc::new(Mutex::new(Agent {
        meter,
        token: options.token,
        node: options.node,
        open: HashMap::new(),
        closed: VecDeque::new(),
    }));
    let app = Router::new()
        .route("/v1/windows/{name}/open", post(open_window))
        .route("/v1/windows/{name}/close", post(close_window))
        .route("/v1/windows/{name}", get(read_window))
        .route("/v1/sensors", get(sensors))
        .route("/metrics", get(prometheus))
        .with_state(agent);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        anyhow::Ok(())
    })
}

fn refuse(status: StatusCode, error: String) -> Response {
    (status, Json(Refusal { error })).into_response()
}

/// The token check every handler starts with: the 401 to send, if any. The comparison takes
/// the same time wherever the first difference is.
fn unauthorised(agent: &Agent, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (a, b) = (given.as_bytes(), agent.token.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same {
        None
    } else {
        let mut r = refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (the agent's --token-file)".into(),
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        Some(r)
    }
}

fn lock(agent: &Shared) -> std::sync::MutexGuard<'_, Agent> {
    // A handler that panicked cannot have left the maps half-changed in a way that matters
    // more than serving on: take the guard anyway.
    agent.lock().unwrap_or_else(|p| p.into_inner())
}

async fn open_window(
    State(agent): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut a = lock(&agent);
    if let Some(r) = unauthorised(&a, &headers) {
        return r;
    }
    if a.open.contains_key(&name) {
        return refuse(
            StatusCode::CONFLICT,
            format!("window `{name}` is already open on node {}", a.node),
        );
    }
    let id = a.meter.open_window(&name);
    a.open.insert(name.clone(), id);
    let reply = Opened {
        protocol: PROTOCOL_VERSION,
        node: a.node.clone(),
        window: name,
    };
    (StatusCode::CREATED, Json(reply)).into_response()
}

async fn close_window(
    State(agent): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut a = lock(&agent);
    if let Some(r) = unauthorised(&a, &headers) {
        return r;
    }
    let Some(id) = a.open.remove(&name) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no open window `{name}` on node {}", a.node),
        );
    };
    match a.meter.close_window(id) {
        Ok(report) => {
            if a.closed.len() == KEEP_CLOSED {
                a.closed.pop_front();
            }
            a.closed.push_back((name, report.clone()));
            window_reply(&a, report, false)
        }
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn read_window(
    State(agent): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let a = lock(&agent);
    if let Some(r) = unauthorised(&a, &headers) {
        return r;
    }
    if let Some(&id) = a.open.get(&name) {
        return match a.meter.read_window(id) {
            Ok(report) => window_reply(&a, report, true),
            Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    }
    match a.closed.iter().rev().find(|(n, _)| *n == name) {
        Some((_, report)) => window_reply(&a, report.clone(), false),
        None => refuse(
            StatusCode::NOT_FOUND,
            format!("no window `{name}` on node {}", a.node),
        ),
    }
}

fn window_reply(a: &Agent, mut report: WindowReport, open: bool) -> Response {
    report.samples.clear();
    Json(Window {
        protocol: PROTOCOL_VERSION,
        node: a.node.clone(),
        open,
        report,
        startup_warnings: a.meter.startup_warnings(),
    })
    .into_response()
}

async fn sensors(State(agent): State<Shared>, headers: HeaderMap) -> Response {
    let a = lock(&agent);
    if let Some(r) = unauthorised(&a, &headers) {
        return r;
    }
    Json(Sensors {
        protocol: PROTOCOL_VERSION,
        node: a.node.clone(),
        sensors: a.meter.sensors(),
        startup_warnings: a.meter.startup_warnings(),
    })
    .into_response()
}

async fn prometheus(State(agent): State<Shared>, headers: HeaderMap) -> Response {
    let a = lock(&agent);
    if let Some(r) = unauthorised(&a, &headers) {
        return r;
    }
    let total = match a.meter.read_window(a.meter.total_window()) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let latest = a.meter.recent_samples().pop();
    let body = metrics::render(&metrics::Snapshot {
        node: &a.node,
        since_start: &total,
        latest: latest.as_ref(),
        open_windows: a.open.len(),
        own: metrics::own_usage(),
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Resolves on SIGTERM or SIGINT: how `powerhungry agent` stops (a DaemonSet's pod being
/// deleted, Ctrl-C).
pub async fn termination() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the default action (exit) still stops the agent.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
