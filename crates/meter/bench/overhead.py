#!/usr/bin/env python3
"""The meter's own cost against CodeCarbon 3.x, same workload, same run (issue 2).

For each workload -- (a) `sleep 30`, (b) 20 s of one busy CPU -- runs:
  bare          the workload alone
  powerhungry   powerhungry measure --interval-ms 100 -- workload
  python        python3 running the workload in a subprocess (CodeCarbon's baseline)
  codecarbon15  the same under OfflineEmissionsTracker at its default 15 s
  codecarbon1   the same at measure_power_secs=1
and prints CPU seconds (user+sys of the whole process tree) and peak RSS (the largest process of
the tree), both from GNU time (apt package `time`), and the meter process's own CPU seconds and
peak RSS without the workload (getrusage(RUSAGE_SELF): powerhungry's `--json` `meter_cost`, the
Python process for CodeCarbon, which runs the workload in a subprocess). A meter's cost is its row minus its baseline row
(powerhungry - bare, codecarbon - python).

usage: overhead.py POWERHUNGRY_BINARY PYTHON_WITH_CODECARBON [--short]
"""
import json
import os
import subprocess
import sys
import tempfile

CC_RUNNER = r'''
import subprocess, sys
mode, cmd = sys.argv[1], sys.argv[2:]
if mode != "none":
    from codecarbon import OfflineEmissionsTracker
    t = OfflineEmissionsTracker(country_iso_code="FRA", save_to_file=False, log_level="error",
                                measure_power_secs=15 if mode == "cc15" else 1)
    t.start()
subprocess.run(cmd)
if mode != "none":
    t.stop()
import resource
r = resource.getrusage(resource.RUSAGE_SELF)
print("SELF", r.ru_utime + r.ru_stime, r.ru_maxrss, file=sys.stderr)
'''


def run(argv, cwd):
    """CPU seconds and peak RSS (MiB) of `argv` and everything it ran.

    GNU time (a small C program, so a forked child starts small) reports the wait4 rusage of
    the tree: user+sys of every waited-for process, and the largest process's peak RSS.
    """
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M", *argv], cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = [l for l in p.stderr.splitlines() if l.startswith("TIME ")][-1].split()
    own = [l for l in p.stderr.splitlines() if l.startswith("SELF ")]
    if own:
        cpu_self, rss_self = float(own[-1].split()[1]), int(own[-1].split()[2]) / 1024.0
    elif os.path.exists(os.path.join(cwd, "m.json")):
        with open(os.path.join(cwd, "m.json")) as f:
            cost = json.load(f)["meter_cost"]
        os.remove(os.path.join(cwd, "m.json"))
        cpu_self, rss_self = cost["cpu_s"], cost["peak_rss_mib"]
    else:
        cpu_self, rss_self = None, None
    return float(line[1]) + float(line[2]), int(line[3]) / 1024.0, cpu_self, rss_self


def main():
    ph, py = sys.argv[1], sys.argv[2]
    short = "--short" in sys.argv
    s_sleep, s_busy = ("3", "2") if short else ("30", "20")
    workloads = {
        f"sleep {s_sleep}": ["sleep", s_sleep],
        f"{s_busy} s busy CPU": ["timeout", s_busy, "sh", "-c", "while :; do :; done"],
    }
    with tempfile.TemporaryDirectory() as d:
        runner = os.path.join(d, "cc_runner.py")
        with open(runner, "w") as f:
            f.write(CC_RUNNER)
        print(f"{'workload':<16} {'config':<14} {'tree CPU s':>10} {'tree RSS MiB':>12} "
              f"{'meter CPU s':>11} {'meter RSS MiB':>13}")
        for name, w in workloads.items():
            configs = {
                "bare": w,
                "powerhungry": [ph, "measure", "--interval-ms", "100", "--no-csv", "--country",
                                "FRA", "--gpus", "none", "--json", "m.json", "--", *w],
                "python": [py, runner, "none", *w],
                "codecarbon15": [py, runner, "cc15", *w],
                "codecarbon1": [py, runner, "cc1", *w],
            }
            for cname, argv in configs.items():
                cpu, rss, own_cpu, own_rss = run(argv, d)
                own = (f"{own_cpu:>11.3f} {own_rss:>13.1f}" if own_cpu is not None
                       else f"{'-':>11} {'-':>13}")
                print(f"{name:<16} {cname:<14} {cpu:>10.3f} {rss:>12.1f} {own}", flush=True)


if __name__ == "__main__":
    main()
