//! The bench's side: [`RemoteMeters`] opens and closes each window on every agent of a job and
//! sums them, as the studies summed nodes by hand: energy = the sum over nodes, duration = the
//! longest, each node's components kept under its name (`node-a/cpu-package0`). An agent that
//! fails to answer fails the window, so the runner stores nothing of that repetition.

use crate::protocol::{Opened, Refusal, Sensors, Window, PROTOCOL_VERSION};
use anyhow::{anyhow, bail, Context, Result};
use powerhungry_bench::runner::meter::window_energy;
use powerhungry_bench::runner::{EnergyMeter, WindowEnergy};
use powerhungry_bench::sink::IdlePower;
use std::time::Duration;

/// One agent: its base URL (`http://10.0.0.2:9464`) and the token to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEndpoint {
    pub url: String,
    pub token: String,
}

struct Connected {
    endpoint: AgentEndpoint,
    node: String,
}

/// Every agent of a job as one `EnergyMeter`.
pub struct RemoteMeters {
    http: ureq::Agent,
    agents: Vec<Connected>,
    /// Window names are unique per bench process: this prefix, a counter, the phase.
    prefix: String,
    counter: u64,
    open: Option<String>,
    /// Each node's idle power per component (`node/component`), once measured.
    idle: Vec<IdlePower>,
}

impl RemoteMeters {
    /// Check every agent answers, with our protocol and our token, before anything is
    /// measured; node names must differ (they name the components).
    pub fn connect(endpoints: &[AgentEndpoint], timeout: Duration) -> Result<RemoteMeters> {
        if endpoints.is_empty() {
            bail!("--agents: give at least one agent URL");
        }
        let http = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout(timeout)
            .build();
        let mut agents: Vec<Connected> = Vec::new();
        for e in endpoints {
            let url = e.url.trim_end_matches('/');
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--agents: `{}` is not an http:// or https:// URL", e.url);
            }
            let sensors: Sensors = call(&http, e, "GET", "/v1/sensors")
                .with_context(|| format!("agent {url}: cannot start (nothing was measured)"))?;
            if sensors.protocol != PROTOCOL_VERSION {
                bail!(
                    "agent {url} speaks protocol {}, this powerhungry {PROTOCOL_VERSION}: run the \
                     same version on every node",
                    sensors.protocol
                );
            }
            if let Some(other) = agents.iter().find(|a| a.node == sensors.node) {
                bail!(
                    "agents {} and {url} are both node `{}`: one agent per node, each with its \
                     own name (`powerhungry agent --node-name`)",
                    other.endpoint.url,
                    sensors.node
                );
            }
            agents.push(Connected {
                endpoint: AgentEndpoint {
                    url: url.to_string(),
                    token: e.token.clone(),
                },
                node: sensors.node,
            });
        }
        Ok(RemoteMeters {
            http,
            agents,
            prefix: format!("bench-{}-{}", std::process::id(), unix_millis()),
            counter: 0,
            open: None,
            idle: Vec::new(),
        })
    }

    /// Measure every node's idle power: one window of `seconds` on every agent while nothing
    /// runs (the caller's to ensure, as for a local baseline). Each later window then also
    /// reports its energy above idle, node by node: joules - idle W x that node's duration.
    pub fn measure_idle(&mut self, seconds: f64) -> Result<()> {
        if !seconds.is_finite() || seconds <= 0.0 {
            bail!("idle baseline: expected a positive number of seconds, got {seconds}");
        }
        self.open_window("idle")?;
        std::thread::sleep(Duration::from_secs_f64(seconds));
        let parts = self.close_parts()?;
        self.idle.clear();
        for (node, w) in &parts {
            let e = window_energy(&w.report, &w.startup_warnings, &format!("{node}/"));
            if e.duration_s <= 0.0 {
                bail!("agent of node {node}: the idle window lasted no time");
            }
            self.idle.extend(e.components.iter().map(|c| IdlePower {
                component: c.component.clone(),
                method: c.method.clone(),
                watts: c.joules / e.duration_s,
            }));
        }
        Ok(())
    }

    /// The nodes, in the order given.
    pub fn nodes(&self) -> Vec<String> {
        self.agents.iter().map(|a| a.node.clone()).collect()
    }
}

impl EnergyMeter for RemoteMeters {
    fn open_window(&mut self, name: &str) -> Result<()> {
        if self.open.is_some() {
            bail!("internal: window {name:?} opened while another is open");
        }
        self.counter += 1;
        let window = format!("{}-{}-{name}", self.prefix, self.counter);
        for (i, a) in self.agents.iter().enumerate() {
            let opened: Result<Opened> = call(
                &self.http,
                &a.endpoint,
                "POST",
                &format!("/v1/windows/{window}/open"),
            );
            if let Err(e) = opened {
                // Leave no window open behind us on the agents that did open it.
                for b in &self.agents[..i] {
                    let _: Result<Window> = call(
                        &self.http,
                        &b.endpoint,
                        "POST",
                        &format!("/v1/windows/{window}/close"),
                    );
                }
                return Err(e.context(format!(
                    "agent {} (node {}): cannot open window `{name}`",
                    a.endpoint.url, a.node
                )));
            }
        }
        self.open = Some(window);
        Ok(())
    }

    fn close_window(&mut self) -> Result<WindowEnergy> {
        let parts = self.close_parts()?;
        Ok(sum_nodes(&parts, &self.idle))
    }

    fn live_watts(&self) -> Option<f64> {
        None
    }

    fn idle(&self) -> Vec<IdlePower> {
        self.idle.clone()
    }
}

impl RemoteMeters {
    /// Close the open window on every agent even when one fails, so none keeps it open; every
    /// node's window, or an error naming the agents that failed.
    fn close_parts(&mut self) -> Result<Vec<(String, Window)>> {
        let window = self
            .open
            .take()
            .ok_or_else(|| anyhow!("internal: no window is open"))?;
        let mut parts = Vec::with_capacity(self.agents.len());
        let mut failed = Vec::new();
        for a in &self.agents {
            let closed: Result<Window> = call(
                &self.http,
                &a.endpoint,
                "POST",
                &format!("/v1/windows/{window}/close"),
            );
            match closed {
                Ok(w) => parts.push((a.node.clone(), w)),
                Err(e) => failed.push(format!("agent {} (node {}): {e:#}", a.endpoint.url, a.node)),
            }
        }
        if !failed.is_empty() {
            bail!(
                "the window's energy is incomplete, so this repetition is not stored: {}",
                failed.join("; ")
            );
        }
        Ok(parts)
    }
}

/// One window over several nodes: components of every node (named `node/component`), the
/// longest duration, every node's warnings and uncounted devices; "nothing measured" only when
/// no node measured anything. With idle powers (named the same way), each component also has
/// its energy above idle over its own node's duration.
pub fn sum_nodes(parts: &[(String, Window)], idle: &[IdlePower]) -> WindowEnergy {
    let mut out = WindowEnergy {
        duration_s: 0.0,
        components: Vec::new(),
        warnings: Vec::new(),
        uncounted: Vec::new(),
        nothing_measured: true,
    };
    for (node, w) in parts {
        let mut e = window_energy(&w.report, &w.startup_warnings, &format!("{node}/"));
        for c in &mut e.components {
            if let Some(i) = idle.iter().find(|i| i.component == c.component) {
                c.above_idle_joules = Some(c.joules - i.watts * e.duration_s);
            }
        }
        out.duration_s = out.duration_s.max(e.duration_s);
        out.components.extend(e.components);
        out.warnings
            .extend(e.warnings.into_iter().map(|x| format!("node {node}: {x}")));
        out.uncounted.extend(e.uncounted);
        out.nothing_measured &= e.nothing_measured;
    }
    out
}

/// One request with the bearer token; a refusal's reason, a transport error or a reply that is
/// not ours become one clear error.
fn call<T: serde::de::DeserializeOwned>(
    http: &ureq::Agent,
    e: &AgentEndpoint,
    method: &str,
    path: &str,
) -> Result<T> {
    let url = format!("{}{path}", e.url.trim_end_matches('/'));
    let reply = http
        .request(method, &url)
        .set("Authorization", &format!("Bearer {}", e.token))
        .call();
    match reply {
        Ok(r) => r
            .into_json::<T>()
            .with_context(|| format!("{method} {url}: the reply is not a powerhungry agent's")),
        Err(ureq::Error::Status(code, r)) => {
            let why = r
                .into_json::<Refusal>()
                .map(|x| x.error)
                .unwrap_or_else(|_| "no reason given".into());
            Err(anyhow!("{method} {url}: HTTP {code}: {why}"))
        }
        Err(ureq::Error::Transport(t)) => Err(anyhow!("{method} {url}: {t}")),
    }
}

fn unix_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
