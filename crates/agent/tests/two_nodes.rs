//! Two real agents (HTTP on loopback), each over its own fake powercap tree (the hardware
//! boundary), driven by the bench's `RemoteMeters`: the summed window holds exactly what each
//! tree's writer added between the edges, the duration is the longest, a wrong token is
//! refused with 401, a vanished agent fails the window, and `/metrics` passes Prometheus' own
//! checker.

use powerhungry_agent::client::{AgentEndpoint, RemoteMeters};
use powerhungry_agent::server::{serve, AgentOptions};
use powerhungry_bench::runner::EnergyMeter;
use powerhungry_meter::{GpuSelection, Meter, MeterConfig};
use std::path::PathBuf;
use std::time::Duration;

/// A node with one RAPL package zone whose counter the test sets.
struct FakeNode {
    _dir: tempfile::TempDir,
    energy_uj: PathBuf,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl FakeNode {
    fn start(node: &str, token: &str) -> FakeNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let zone = dir.path().join("sys/class/powercap/intel-rapl:0");
        std::fs::create_dir_all(&zone).expect("zone");
        std::fs::write(zone.join("name"), "package-0\n").expect("name");
        std::fs::write(zone.join("max_energy_range_uj"), "262143328850\n").expect("range");
        let energy_uj = zone.join("energy_uj");
        std::fs::write(&energy_uj, "1000000\n").expect("energy");
        let meter = Meter::start(MeterConfig {
            sysfs_root: dir.path().join("sys"),
            gpus: GpuSelection::None,
            interval: Duration::from_millis(20),
            window_samples: false,
            keep_closed_windows: false,
            ..MeterConfig::default()
        })
        .expect("meter");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = AgentOptions {
            token: token.to_string(),
            node: node.to_string(),
        };
        let thread = std::thread::spawn(move || {
            serve(meter, listener, options, async move {
                let _ = stopped.await;
            })
        });
        FakeNode {
            _dir: dir,
            energy_uj,
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn set_uj(&self, uj: u64) {
        std::fs::write(&self.energy_uj, format!("{uj}\n")).expect("write counter");
    }

    fn endpoint(&self, token: &str) -> AgentEndpoint {
        AgentEndpoint {
            url: self.url.clone(),
            token: token.to_string(),
        }
    }

    fn kill(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("agent thread").expect("agent served");
        }
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.kill();
    }
}

fn package_joules(w: &powerhungry_bench::runner::WindowEnergy, node: &str) -> f64 {
    w.components
        .iter()
        .filter(|c| c.component == format!("{node}/cpu-package0"))
        .map(|c| c.joules)
        .sum()
}

#[test]
fn energy_is_the_sum_over_nodes_and_duration_the_longest() {
    let a = FakeNode::start("node-a", "secret-a");
    let b = FakeNode::start("node-b", "secret-b");
    let mut meters = RemoteMeters::connect(
        &[a.endpoint("secret-a"), b.endpoint("secret-b")],
        Duration::from_secs(5),
    )
    .expect("connect");
    assert_eq!(meters.nodes(), ["node-a", "node-b"]);
    for round in 1..=3u64 {
        meters.open_window("inference").expect("open");
        // What each node's "hardware" spends inside the window: 5 J x round on a, 2.5 J on b.
        let (base_a, base_b) = (
            1_000_000 + (round - 1) * 20_000_000,
            1_000_000 + (round - 1) * 20_000_000,
        );
        for step in 1..=5u64 {
            a.set_uj(base_a + step * round * 1_000_000);
            b.set_uj(base_b + step * round * 500_000);
            std::thread::sleep(Duration::from_millis(15));
        }
        let w = meters.close_window().expect("close");
        let (ja, jb) = (package_joules(&w, "node-a"), package_joules(&w, "node-b"));
        assert!((ja - 5.0 * round as f64).abs() < 1e-9, "node a: {ja} J");
        assert!((jb - 2.5 * round as f64).abs() < 1e-9, "node b: {jb} J");
        assert!(!w.nothing_measured && w.uncounted.is_empty(), "{w:?}");
        assert!(w.duration_s >= 0.075, "{}", w.duration_s);
        for c in &w.components {
            assert!(c.component.starts_with("node-a/") || c.component.starts_with("node-b/"));
            if c.component.ends_with("cpu-package0") {
                assert_eq!(c.method, "measured:rapl");
            }
        }
        // Next round starts from a fresh base, as counters only grow.
        a.set_uj(1_000_000 + round * 20_000_000);
        b.set_uj(1_000_000 + round * 20_000_000);
    }
}

#[test]
fn a_wrong_token_is_refused_before_anything_is_measured() {
    let a = FakeNode::start("node-a", "right");
    let err = RemoteMeters::connect(&[a.endpoint("wrong")], Duration::from_secs(5))
        .err()
        .expect("refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("HTTP 401"), "{msg}");
    assert!(msg.contains("bearer token"), "{msg}");
    // Two agents claiming one node name are refused too.
    let b = FakeNode::start("node-a", "right");
    let err = RemoteMeters::connect(
        &[a.endpoint("right"), b.endpoint("right")],
        Duration::from_secs(5),
    )
    .err()
    .expect("refused");
    assert!(
        format!("{err:#}").contains("are both node `node-a`"),
        "{err:#}"
    );
    let err = RemoteMeters::connect(
        &[AgentEndpoint {
            url: "ftp://x".into(),
            token: "t".into(),
        }],
        Duration::from_secs(1),
    )
    .err()
    .expect("refused");
    assert!(format!("{err:#}").contains("not an http://"), "{err:#}");
}

#[test]
fn an_agent_that_vanishes_mid_window_fails_the_window() {
    let a = FakeNode::start("node-a", "t");
    let mut b = FakeNode::start("node-b", "t");
    let mut meters =
        RemoteMeters::connect(&[a.endpoint("t"), b.endpoint("t")], Duration::from_secs(2))
            .expect("connect");
    meters.open_window("inference").expect("open");
    b.kill();
    let err = meters.close_window().expect_err("incomplete");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("incomplete, so this repetition is not stored"),
        "{msg}"
    );
    assert!(msg.contains("node node-b"), "{msg}");
    // The surviving agent closed its window: a new one opens under a fresh name.
    let mut one = RemoteMeters::connect(&[a.endpoint("t")], Duration::from_secs(2)).expect("a");
    one.open_window("load").expect("open");
    assert!(one.close_window().is_ok());
}

fn promtool() -> Option<PathBuf> {
    powerhungry_testkit::program(
        "promtool",
        "apt-get install prometheus (Debian's package ships promtool)",
    )
}

#[test]
fn metrics_are_prometheus_text_with_monotonic_counters() {
    let a = FakeNode::start("node-a", "t");
    // (status, body) of one scrape.
    let scrape = |token: &str| -> (u16, String) {
        match ureq::get(&format!("{}/metrics", a.url))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
        {
            Ok(r) => (r.status(), r.into_string().expect("text")),
            Err(ureq::Error::Status(code, _)) => (code, String::new()),
            Err(e) => panic!("scrape: {e}"),
        }
    };
    assert_eq!(scrape("nope").0, 401);
    let (status, first) = scrape("t");
    assert_eq!(status, 200);
    a.set_uj(4_000_000);
    std::thread::sleep(Duration::from_millis(60));
    let second = scrape("t").1;
    let energy = |text: &str| -> f64 {
        text.lines()
            .find(|l| {
                l.starts_with(
                    "powerhungry_energy_joules_total{node=\"node-a\",component=\"cpu-package0\"",
                )
            })
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no package counter in:\n{text}"))
    };
    let (e1, e2) = (energy(&first), energy(&second));
    assert!(
        (e2 - e1 - 3.0).abs() < 1e-9,
        "the counter moved {e1} -> {e2} J, +3 J written"
    );
    assert!(second.contains("method=\"measured:rapl\""), "{second}");
    assert!(second.contains("powerhungry_agent_cpu_seconds_total{node=\"node-a\"}"));
    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("metrics.txt");
    std::fs::write(&file, &second).expect("write");
    let out = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).expect("open"))
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n{second}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
