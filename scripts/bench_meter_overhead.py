#!/usr/bin/env python3
"""What does metering cost? powerhungry's meter against CodeCarbon's tracker, same run.

Usage (from the repository root):
    cargo build --release -p powerhungry
    python3 -m venv /tmp/ccvenv && /tmp/ccvenv/bin/pip install codecarbon==3.3.2
    python3 scripts/bench_meter_overhead.py --cc-python /tmp/ccvenv/bin/python [--reps N]

Workloads: (a) `sleep 30`, (b) 20 s of one busy core (`timeout 20 sh -c 'while :; do :; done'`).
Conditions, each around the same workload command:
  none           the workload alone
  powerhungry    target/release/powerhungry measure --interval-ms 100 -- WORKLOAD
  ph-10ms        the same at --interval-ms 10 (where only estimates exist, as on a VM, the
                 meter samples every 50 ms, as often as they change, and says so)
  ph-10ms-rapl   the same at 10 ms with --sysfs-root a fake powercap tree (one RAPL package
                 zone in a temporary directory): a counter is there, so the sampler wakes
                 every 10 ms and reads it, as on a machine with RAPL
  py-no-tracker  a small Python runner that runs WORKLOAD as a child, without CodeCarbon
  cc-default     the same runner inside CodeCarbon's OfflineEmissionsTracker (default 15 s)
  cc-1s          the same with measure_power_secs=1

The tool's own cost is read from the kernel, not estimated: the tool process is waited for
with WNOWAIT so its /proc/<pid>/stat can still be read as a zombie: utime+stime is the tool's
own CPU time, cutime+cstime its reaped children's (the workload). Peak RSS is the tool
process's own VmHWM (/proc/<pid>/status), polled every 50 ms until it exits (VmHWM only
grows). CodeCarbon's cost is the runner with the tracker minus the runner without it, so the
Python interpreter a user already runs is not billed to CodeCarbon.
Prints a Markdown table and the ratios; docs/overhead.md holds a copy of one run.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

TCK = os.sysconf("SC_CLK_TCK")
WORKLOADS = {
    "sleep 30 s": ["sleep", "30"],
    "busy 20 s": ["timeout", "20", "sh", "-c", "while :; do :; done"],
}

RUNNER = r"""
import subprocess, sys
mode, out = sys.argv[1], sys.argv[2]
cmd = sys.argv[3:]
if mode == "none":
    sys.exit(subprocess.run(cmd).returncode)
from codecarbon import OfflineEmissionsTracker
kw = {} if mode == "default" else {"measure_power_secs": float(mode)}
t = OfflineEmissionsTracker(country_iso_code="FRA", output_dir=out, log_level="error",
                            project_name="overhead-" + mode, **kw)
t.start()
try:
    rc = subprocess.run(cmd).returncode
finally:
    t.stop()
sys.exit(rc)
"""


def wrap(work, times_file):
    """The workload inside `sh -c`, whose `times` builtin records the workload's own CPU time
    (shell + reaped children) in times_file, so it can be taken out of the tool's children."""
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in work)
    return ["sh", "-c", f"{quoted}; rc=$?; times > '{times_file}'; exit $rc"]


def read_times(path):
    """Sum of the four `times` figures (e.g. `0m1.480s 0m0.004s`), seconds."""
    total = 0.0
    with open(path) as f:
        for tok in f.read().split():
            m, sec = tok.rstrip("s").split("m")
            total += int(m) * 60 + float(sec)
    return total


def run(cmd, cwd):
    """Run cmd; return wall s, own CPU s, children CPU s, own peak RSS MiB, exit code."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hwm_kib = 0
    while os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm_kib = max(hwm_kib, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.05)
    wall = time.monotonic() - t0
    with open(f"/proc/{p.pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / TCK
    children = (int(fields[13]) + int(fields[14])) / TCK
    _, status, _ = os.wait4(p.pid, 0)
    return wall, own, children, hwm_kib / 1024.0, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--bin", default=os.path.join(root, "target", "release", "powerhungry"))
    ap.add_argument("--cc-python", required=True, help="a python with codecarbon installed")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="3 s workloads, to try the script out")
    args = ap.parse_args()
    if args.quick:
        WORKLOADS["sleep 30 s"] = ["sleep", "3"]
        WORKLOADS["busy 20 s"] = ["timeout", "3", "sh", "-c", "while :; do :; done"]
    args.bin = os.path.abspath(args.bin)
    for path in (args.bin, args.cc_python):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path}: not an executable (build with `cargo build --release -p powerhungry`)")
    cc_version = subprocess.run(
        [args.cc_python, "-c", "import codecarbon; print(codecarbon.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    tmp = tempfile.mkdtemp(prefix="bench-overhead-")
    runner = os.path.join(tmp, "runner.py")
    with open(runner, "w") as f:
        f.write(RUNNER)

    times_file = os.path.join(tmp, "workload-times.txt")
    fake_sys = os.path.join(tmp, "sys")
    zone = os.path.join(fake_sys, "class", "powercap", "intel-rapl:0")
    os.makedirs(zone)
    for name, value in (("name", "package-0"), ("energy_uj", "1000000"),
                        ("max_energy_range_uj", "262143328850")):
        with open(os.path.join(zone, name), "w") as f:
            f.write(value + "\n")

    def ph(interval_ms, *more):
        return [args.bin, "measure", "--interval-ms", interval_ms, *more, "--output",
                os.path.join(tmp, "ph-emissions.csv"), "--"]

    def conditions(work):
        work = wrap(work, times_file)
        return {
            "none": work,
            "powerhungry": ph("100") + work,
            "ph-10ms": ph("10") + work,
            "ph-10ms-rapl": ph("10", "--sysfs-root", fake_sys) + work,
            "py-no-tracker": [args.cc_python, runner, "none", tmp] + work,
            "cc-default": [args.cc_python, runner, "default", tmp] + work,
            "cc-1s": [args.cc_python, runner, "1", tmp] + work,
        }

    results = {}
    for rep in range(args.reps):
        for wname, work in WORKLOADS.items():
            for cname, cmd in conditions(work).items():
                if os.path.exists(times_file):
                    os.remove(times_file)
                wall, own, children, rss, code = run(cmd, tmp)
                work_cpu = read_times(times_file)
                if cname == "none":  # the measured process is the workload's shell itself
                    tool_cpu, rss = 0.0, 0.0
                else:
                    tool_cpu = own + children - work_cpu
                r = (wall, tool_cpu, work_cpu, rss, own, children - work_cpu)
                results.setdefault((wname, cname), []).append(r)
                print(f"rep {rep + 1} {wname:10} {cname:14} wall {wall:6.2f} s tool CPU {tool_cpu:6.2f} s "
                      f"(own {own:.2f}, other children {children - work_cpu:.2f}) workload CPU "
                      f"{work_cpu:6.2f} s tool peak RSS {rss:6.1f} MiB exit {code}",
                      file=sys.stderr, flush=True)

    med = {k: [statistics.median(x[i] for x in v) for i in range(6)] for k, v in results.items()}
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; "
          f"codecarbon {cc_version}; {args.reps} repetition(s), medians.\n")
    print("| workload | condition | wall s | tool CPU s (own + its other children) | workload CPU s "
          "| tool's own peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for (wname, cname), (wall, tool, work, rss, own, other) in med.items():
        print(f"| {wname} | {cname} | {wall:.2f} | {tool:.2f} ({own:.2f} + {other:.2f}) | {work:.2f} | {rss:.1f} |")
    print("\nCost of metering: powerhungry = its CPU and peak RSS; CodeCarbon = cc-* minus "
          "py-no-tracker.\n")
    print("| workload | powerhungry condition | its CPU s | CodeCarbon CPU s (default / 1 s) | CPU ratio PH/CC (default / 1 s) "
          "| powerhungry RSS MiB | CodeCarbon extra RSS MiB (default / 1 s) | RSS ratio PH/CC (default / 1 s) |")
    print("|---|---|---|---|---|---|---|---|")

    def ratio(a, b):
        return f"{a / b:.3f}" if b > 0 else "n/a"

    for wname in WORKLOADS:
        base = med[(wname, "py-no-tracker")]
        cc = [med[(wname, c)] for c in ("cc-default", "cc-1s")]
        cc_cpu = [c[1] - base[1] for c in cc]
        cc_rss = [c[3] - base[3] for c in cc]
        for cname in ("powerhungry", "ph-10ms", "ph-10ms-rapl"):
            ph = med[(wname, cname)]
            print(f"| {wname} | {cname} | {ph[1]:.3f} | {cc_cpu[0]:.2f} / {cc_cpu[1]:.2f} | "
                  f"{ratio(ph[1], cc_cpu[0])} / {ratio(ph[1], cc_cpu[1])} | {ph[3]:.1f} | "
                  f"{cc_rss[0]:.1f} / {cc_rss[1]:.1f} | {ratio(ph[3], cc_rss[0])} / {ratio(ph[3], cc_rss[1])} |")


if __name__ == "__main__":
    main()
