#!/usr/bin/env python3
"""The node agent's own cost against Prometheus' node exporter, in one run (issue 12).

For each exporter: start it on loopback, let it sit idle for --seconds, then fetch /metrics
once a second for --seconds (as a Prometheus scrape at 1 s would). Report CPU seconds used
(utime + stime from /proc/PID/stat) and resident memory (VmRSS, and the peak VmHWM) in each
phase. The agent is `powerhungry agent` (RAPL absent here: its estimators run; GPUs off); the
baseline is Debian's prometheus-node-exporter with its default collectors.

    python3 scripts/bench_agent_cost.py --bin target/release/powerhungry --seconds 30
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def wait_for(url, headers, timeout=20.0):
    t0 = time.time()
    while True:
        try:
            req = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(req, timeout=2) as r:
                r.read()
            return
        except Exception:
            if time.time() - t0 > timeout:
                raise SystemExit(f"{url} did not answer in {timeout} s")
            time.sleep(0.1)


def measure(name, argv, url, headers, seconds):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for(url, headers)
        rows = []
        c0 = cpu_seconds(proc.pid)
        time.sleep(seconds)
        c1 = cpu_seconds(proc.pid)
        rows.append((name, "idle", c1 - c0, memory_kib(proc.pid)))
        n, size = 0, 0
        t_end = time.time() + seconds
        while time.time() < t_end:
            t = time.time()
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
                size = len(r.read())
            n += 1
            time.sleep(max(0.0, 1.0 - (time.time() - t)))
        c2 = cpu_seconds(proc.pid)
        rows.append((name, f"/metrics every 1 s ({n} scrapes, {size} bytes)", c2 - c1, memory_kib(proc.pid)))
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the powerhungry binary")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--node-exporter", default=shutil.which("prometheus-node-exporter") or "")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("bench-token\n")
    os.chmod(token, 0o600)
    rows = measure(
        "powerhungry agent",
        [a.bin, "agent", "--listen", "127.0.0.1:19464", "--token-file", token, "--gpus", "none",
         "--claim-dir", os.path.join(tmp, "claims")],
        "http://127.0.0.1:19464/metrics",
        {"Authorization": "Bearer bench-token"},
        a.seconds,
    )
    if a.node_exporter:
        rows += measure(
            "prometheus-node-exporter",
            [a.node_exporter, "--web.listen-address=127.0.0.1:19100"],
            "http://127.0.0.1:19100/metrics",
            {},
            a.seconds,
        )
    else:
        print("prometheus-node-exporter not found: no baseline", file=sys.stderr)
    print(f"{'exporter':<26} {'phase':<44} {'CPU s':>7} {'CPU %':>6} {'RSS MiB':>8} {'peak MiB':>8}")
    for name, phase, cpu, mem in rows:
        print(f"{name:<26} {phase:<44} {cpu:7.2f} {100 * cpu / a.seconds:6.2f} "
              f"{mem['VmRSS'] / 1024:8.1f} {mem['VmHWM'] / 1024:8.1f}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
