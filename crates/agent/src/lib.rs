//! powerhungry-agent: one node's meter served over HTTP, for jobs that span several machines
//! (a model split over two nodes, a Ray cluster under vLLM). The agent holds the node's meter
//! and device claims; the bench opens and closes each named window on every agent of the job
//! and sums them: energy over nodes, duration the longest, each node's part kept (the
//! studies' rule). `/metrics` serves live power and monotonic energy counters in the
//! Prometheus text format.
//!
//! - [`server`]: the agent (`powerhungry agent --listen ADDR --token-file FILE`).
//! - [`client`]: the bench's side, [`client::RemoteMeters`], an `EnergyMeter` over agents.
//! - [`protocol`]: the JSON the two exchange; [`metrics`]: the Prometheus text.
//!
//! Every request carries `Authorization: Bearer <token>`; a wrong or missing token gets 401.

pub mod client;
pub mod metrics;
pub mod protocol;
pub mod server;

pub use client::{AgentEndpoint, RemoteMeters};
pub use server::{serve, AgentOptions};

/// Read a bearer token from a file (one line; surrounding whitespace dropped). An empty file
/// is an error: an agent without a secret would serve anyone.
pub fn read_token_file(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--token-file {}: cannot read it", path.display()))?;
    let token = text.trim().to_string();
    if token.is_empty() {
        anyhow::bail!(
            "--token-file {}: the file is empty; put a secret in it (e.g. `openssl rand -hex 32 > {}`)",
            path.display(),
            path.display()
        );
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        anyhow::bail!(
            "--token-file {}: the token must be one word on one line",
            path.display()
        );
    }
    Ok(token)
}
