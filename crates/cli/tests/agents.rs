//! Two real `powerhungry agent` processes, each over its own fake powercap tree whose counter a
//! thread advances at a known power (30 W and 70 W), and a real `bench --agents` across both:
//! each node's part is its tree's power x the window, the total their sum; an agent killed
//! mid-run fails the repetition in flight and stores nothing of it. The agents run on loopback,
//! and again as two machines: each in a network namespace of its own that the test makes
//! (`ip netns`, a veth pair to the test's namespace), reached over that link only.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Node {
    child: Child,
    url: String,
    writer: Option<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Node {
    /// An agent named `name` over a tree whose package counter grows at `watts`, on loopback.
    fn start(dir: &Path, name: &str, watts: f64, token_file: &Path) -> Node {
        Node::start_in(dir, name, watts, token_file, None, None)
    }

    /// The same, inside network namespace `ns` (listening on its address) when given, and
    /// with a GPU (a GPU tree, `--gpu-tree`) whose energy counter grows at `gpu_watts`.
    fn start_in(
        dir: &Path,
        name: &str,
        watts: f64,
        token_file: &Path,
        ns: Option<&Netns>,
        gpu_watts: Option<f64>,
    ) -> Node {
        let zone = dir.join(name).join("sys/class/powercap/intel-rapl:0");
        std::fs::create_dir_all(&zone).expect("zone");
        std::fs::write(zone.join("name"), "package-0\n").expect("name");
        std::fs::write(zone.join("max_energy_range_uj"), "262143328850\n").expect("range");
        let counter = zone.join("energy_uj");
        std::fs::write(&counter, format!("{:020}\n", 0)).expect("counter");
        let gpu_tree = dir.join(name).join("gpus");
        let gpu_counter = gpu_watts.map(|w| {
            let g = gpu_tree.join("gpu0");
            std::fs::create_dir_all(&g).expect("gpu tree");
            std::fs::write(g.join("name"), "NVIDIA A100-SXM4-80GB\n").expect("name");
            std::fs::write(g.join("power_mw"), format!("{}\n", (w * 1e3) as u64)).expect("power");
            std::fs::write(g.join("total_energy_mj"), format!("{:020}\n", 0)).expect("counter");
            (g.join("total_energy_mj"), w)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                use std::os::unix::fs::FileExt;
                // The meter keeps the file open and rereads it in place: one fixed-width write
                // at offset 0, never a truncation it could read half of.
                let open = |p: &Path| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(p)
                        .expect("counter")
                };
                let file = open(&counter);
                let gpu = gpu_counter.map(|(p, w)| (open(&p), w));
                let t0 = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let t = t0.elapsed().as_secs_f64();
                    let uj = (t * watts * 1e6) as u64;
                    let _ = file.write_all_at(format!("{uj:020}\n").as_bytes(), 0);
                    if let Some((g, w)) = &gpu {
                        let mj = (t * w * 1e3) as u64;
                        let _ = g.write_all_at(format!("{mj:020}\n").as_bytes(), 0);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let bin = assert_cmd::cargo::cargo_bin("powerhungry");
        let (mut command, listen) = match ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &ns.name]).arg(&bin);
                (c, format!("{}:0", ns.inside))
            }
            None => (Command::new(&bin), "127.0.0.1:0".to_string()),
        };
        let mut child = command
            .args(["agent", "--listen", &listen, "--node-name", name])
            .arg("--token-file")
            .arg(token_file)
            .args(if gpu_watts.is_some() {
                vec![
                    "--gpus".into(),
                    "all".into(),
                    "--gpu-tree".into(),
                    gpu_tree.into_os_string(),
                ]
            } else {
                vec!["--gpus".into(), "none".into()]
            })
            .args(["--interval-ms", "20"])
            .arg("--sysfs-root")
            .arg(dir.join(name).join("sys"))
            .arg("--claim-dir")
            .arg(dir.join(name).join("claims"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn agent");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("agent's first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        Node {
            child,
            url,
            writer: Some(writer),
            stop,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// A network namespace with a veth pair to the test's own: the agent inside is another machine
/// on a /30 link, reachable at `inside` only through it. Removed on drop.
struct Netns {
    name: String,
    inside: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Netns {
    /// Namespace number `k` of this test process (addresses 10.213.<x>.<4k+1/2>).
    fn create(k: u32) -> Netns {
        let tag = std::process::id() % 10_000;
        let name = format!("ph{tag}n{k}");
        let (host_if, ns_if) = (format!("ph{tag}h{k}"), format!("ph{tag}v{k}"));
        let third = tag % 250;
        let (outside, inside) = (
            format!("10.213.{third}.{}", 4 * k + 1),
            format!("10.213.{third}.{}", 4 * k + 2),
        );
        ip(&["netns", "add", &name]);
        let ns = Netns {
            name: name.clone(),
            inside: inside.clone(),
        };
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
        ]);
        ip(&["link", "set", &ns_if, "netns", &name]);
        ip(&["addr", "add", &format!("{outside}/30"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "netns",
            "exec",
            &name,
            "ip",
            "addr",
            "add",
            &format!("{inside}/30"),
            "dev",
            &ns_if,
        ]);
        ip(&["netns", "exec", &name, "ip", "link", "set", &ns_if, "up"]);
        ip(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the veth pair, and with it the other.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn suite(dir: &Path, repetitions: u32) -> PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/rt-polarity");
    let path = dir.join("agents.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"agents\"\n[protocol]\ninferences = 1000\nrepetitions = {repetitions}\n\
             warmup = 0\nmax_train = 3000\n[[models]]\nname = \"bow\"\nbackend = \"traditional\"\n\
             kind = \"tfidf-char-lr\"\n[[datasets]]\nname = \"rt\"\ntask = \"text-classification\"\n\
             [datasets.source]\npath = \"{}\"\nformat = \"label-files\"\nencoding = \"latin-1\"\n",
            data.display()
        ),
    )
    .expect("suite");
    path
}

fn bench(dir: &Path, suite: &Path, agents: &str, token_file: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("powerhungry"));
    c.current_dir(dir)
        .arg("bench")
        .arg(suite)
        .args(["--store", "r.sqlite", "--quiet", "--intensity", "100"])
        .args(["--agents", agents])
        .arg("--agent-token-file")
        .arg(token_file);
    c
}

#[test]
fn a_bench_over_two_agents_sums_the_nodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("token");
    let a = Node::start(dir.path(), "node-a", 30.0, &token);
    let b = Node::start(dir.path(), "node-b", 70.0, &token);
    bench_sums_the_nodes(dir.path(), &a, &b, &token);
}

#[test]
fn agents_in_two_network_namespaces_are_two_nodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("token");
    let (ns_a, ns_b) = (Netns::create(0), Netns::create(1));
    // Each node has a GPU too, drawing 200 W and 250 W.
    let a = Node::start_in(dir.path(), "node-a", 30.0, &token, Some(&ns_a), Some(200.0));
    let b = Node::start_in(dir.path(), "node-b", 70.0, &token, Some(&ns_b), Some(250.0));
    assert!(
        a.url.contains(&ns_a.inside),
        "{} listens inside its namespace",
        a.url
    );
    assert!(b.url.contains(&ns_b.inside), "{}", b.url);
    bench_sums_the_nodes(dir.path(), &a, &b, &token);
    let store = powerhungry_store::Store::open(dir.path().join("r.sqlite")).expect("store");
    let run = store.load_run(1).expect("run");
    for rep in &run.repetitions {
        let long = rep.windows.iter().filter(|w| w.duration_s >= 0.1);
        assert!(
            long.clone().count() >= 1,
            "no window to compare: {:?}",
            rep.windows
        );
        for w in long {
            for (node, watts) in [("node-a", 200.0), ("node-b", 250.0)] {
                let gpu = w
                    .components
                    .iter()
                    .find(|c| c.component.starts_with(&format!("{node}/gpu0")))
                    .unwrap_or_else(|| panic!("no {node}/gpu0 in {w:?}"));
                assert!(gpu.method.starts_with("measured:nvml"), "{gpu:?}");
                let want = watts * w.duration_s;
                assert!(
                    (gpu.joules - want).abs() <= 0.01 * watts + 0.05 * want,
                    "{node}/gpu0: {} J, expected {want} J over {} s",
                    gpu.joules,
                    w.duration_s
                );
            }
        }
    }
    drop(store);
    // A wrong token is refused (401) before anything runs, and nothing is stored.
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not-it\n").expect("token");
    let out = bench(
        dir.path(),
        &suite(dir.path(), 1),
        &format!("{},{}", a.url, b.url),
        &wrong,
    )
    .output()
    .expect("bench");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 401"), "{err}");
    let store = powerhungry_store::Store::open(dir.path().join("r.sqlite")).expect("store");
    assert_eq!(
        store.list_runs().expect("runs").len(),
        1,
        "only the first bench's run"
    );
}

#[test]
fn idle_seconds_with_agents_measures_each_nodes_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("token");
    let a = Node::start(dir.path(), "node-a", 30.0, &token);
    let b = Node::start(dir.path(), "node-b", 70.0, &token);
    let out = bench(
        dir.path(),
        &suite(dir.path(), 1),
        &format!("{},{}", a.url, b.url),
        &token,
    )
    .args(["--idle-seconds", "1"])
    .output()
    .expect("bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = powerhungry_store::Store::open(dir.path().join("r.sqlite")).expect("store");
    let run = store.load_run(1).expect("run");
    // The fake nodes draw the same power idle or busy: their baselines are 30 W and 70 W...
    let idle = |node: &str| {
        run.start
            .idle
            .iter()
            .find(|i| i.component == format!("{node}/cpu-package0"))
            .map(|i| i.watts)
            .unwrap_or_else(|| panic!("no idle power for {node}: {:?}", run.start.idle))
    };
    assert!((idle("node-a") - 30.0).abs() < 3.0, "{}", idle("node-a"));
    assert!((idle("node-b") - 70.0).abs() < 7.0, "{}", idle("node-b"));
    // ...so the inference window's energy above idle is about nothing, node by node.
    let w = run.repetitions[0]
        .windows
        .iter()
        .find(|w| w.phase == powerhungry_bench::sink::Phase::Inference)
        .expect("inference window");
    for c in &w.components {
        let above = c.above_idle_joules.expect("above idle");
        assert!(above.abs() <= 0.1 * c.joules + 1.0, "{c:?}");
    }
}

/// Bench across `a` (30 W) and `b` (70 W): each window's parts are each node's power x the
/// window, and nothing else is counted.
fn bench_sums_the_nodes(dir: &Path, a: &Node, b: &Node, token: &Path) {
    let out = bench(dir, &suite(dir, 2), &format!("{},{}", a.url, b.url), token)
        .output()
        .expect("bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = powerhungry_store::Store::open(dir.join("r.sqlite")).expect("store");
    let run = store.load_run(1).expect("run");
    assert_eq!(run.repetitions.len(), 2);
    let mut compared = 0;
    for rep in &run.repetitions {
        for w in &rep.windows {
            assert!(w
                .components
                .iter()
                .all(|c| c.component.starts_with("node-")));
            let part = |node: &str| -> f64 {
                w.components
                    .iter()
                    .filter(|c| c.component == format!("{node}/cpu-package0"))
                    .map(|c| c.joules)
                    .sum()
            };
            let (ja, jb) = (part("node-a"), part("node-b"));
            // The counters move in 1 ms steps and the window edges are read one after the
            // other over HTTP: a few milliseconds of slack each way.
            let slack = 0.01 * 100.0 + 0.05 * (ja + jb);
            if w.duration_s < 0.1 {
                // A window of a few tens of milliseconds (load) is shorter than a scheduling
                // delay of the thread that plays the hardware on a busy 2-core machine: only
                // bounded, not compared.
                assert!(ja >= 0.0 && ja <= 30.0 * w.duration_s + slack, "{w:?}");
                assert!(jb >= 0.0 && jb <= 70.0 * w.duration_s + slack, "{w:?}");
                continue;
            }
            compared += 1;
            assert!(
                (ja - 30.0 * w.duration_s).abs() <= slack,
                "{:?}: node a {ja} J over {} s",
                w.phase,
                w.duration_s
            );
            assert!(
                (jb - 70.0 * w.duration_s).abs() <= slack,
                "{:?}: node b {jb} J over {} s",
                w.phase,
                w.duration_s
            );
        }
    }
    assert!(
        compared >= 2,
        "no window long enough to compare: {:?}",
        run.repetitions
    );
}

#[test]
fn an_agent_killed_mid_run_fails_the_repetition_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("token");
    let a = Node::start(dir.path(), "node-a", 30.0, &token);
    let mut b = Node::start(dir.path(), "node-b", 70.0, &token);
    let suite = suite(dir.path(), 200);
    let mut run = bench(dir.path(), &suite, &format!("{},{}", a.url, b.url), &token)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("bench");
    let db = dir.path().join("r.sqlite");
    let t0 = Instant::now();
    loop {
        let stored = powerhungry_store::Store::open(&db)
            .ok()
            .and_then(|s| s.list_runs().ok())
            .and_then(|r| r.first().map(|r| r.repetitions))
            .unwrap_or(0);
        if stored >= 1 {
            break;
        }
        assert!(
            run.try_wait().expect("try_wait").is_none(),
            "bench ended early"
        );
        assert!(t0.elapsed() < Duration::from_secs(300), "nothing stored");
        std::thread::sleep(Duration::from_millis(20));
    }
    b.kill();
    let out = run.wait_with_output().expect("bench ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("node node-b"), "{stderr}");
    let store = powerhungry_store::Store::open(&db).expect("store");
    let stored = store.load_run(1).expect("run");
    assert!(stored.repetitions.len() < 200);
    for rep in &stored.repetitions {
        for w in &rep.windows {
            for node in ["node-a", "node-b"] {
                assert!(
                    w.components
                        .iter()
                        .any(|c| c.component == format!("{node}/cpu-package0")),
                    "every stored window has both nodes: {w:?}"
                );
            }
        }
    }
}
