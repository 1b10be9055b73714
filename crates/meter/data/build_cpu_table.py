#!/usr/bin/env python3
"""Build crates/meter/data/cpu_tdp.csv, the TDP table embedded in the meter.

Usage (from the repository root):
    python3 crates/meter/data/build_cpu_table.py [--codecarbon DIR] > crates/meter/data/cpu_tdp.csv

DIR defaults to ../shared/reference-data/codecarbon. Inputs (MIT, CodeCarbon; see LICENSE-codecarbon):
  pypi-3.3.2/data/hardware/cpu_power.csv                       Name,TDP (4,918 rows)
  repo/data/hardware/cpu_dataset_builder/amd_cpu_*_dataset.csv  AMD cores/threads
  repo/data/hardware/cpu_dataset_builder/intel_cpu_ark_dataset.csv  Intel ARK cores
Output columns: name,tdp_w,cores,threads (cores/threads empty when no scrape matched).
Rows are kept only if the name starts with a vendor (Intel, AMD, Apple) or is an Arm core
(Cortex-*): the others are bare model numbers ("4334", "570") that would match anything.
Duplicates (same name, case-insensitive) keep the first row; rows whose TDP is not a
number (four old Celerons hold "27.29.5"-style ranges) are dropped. Prints a summary to stderr.
"""

import argparse
import csv
import os
import re
import statistics
import sys


def clean(name):
    """Drop trademark signs and the word Processor so scrape names join cpu_power.csv names."""
    s = name.replace("\u2122", " ").replace("\u00ae", " ").replace("(R)", " ").replace("(TM)", " ")
    s = re.sub(r"\bProcessor\b", " ", s)
    return re.sub(r"\s+", " ", s).strip().lower()


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--codecarbon", default=os.path.join(root, "..", "shared", "reference-data", "codecarbon"))
    args = ap.parse_args()
    cc = args.codecarbon
    builder = os.path.join(cc, "repo", "data", "hardware", "cpu_dataset_builder")

    topo = {}  # cleaned name -> (cores, threads or None)
    for fn in ("amd_cpu_server_dataset.csv", "amd_cpu_desktop_dataset.csv"):
        with open(os.path.join(builder, fn), encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                c, t = r["# of CPU Cores"].strip(), r["# of Threads"].strip()
                if c.isdigit():
                    topo.setdefault(clean(r["Name"]), (int(c), int(t) if t.isdigit() else None))
    with open(os.path.join(builder, "intel_cpu_ark_dataset.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            c = r["total_cores"].strip()
            if c.isdigit():
                topo.setdefault(clean(r["cpu_name"]), (int(c), None))

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["name", "tdp_w", "cores", "threads"])
    seen, kept, dropped, joined, per_thread = set(), 0, 0, 0, []
    with open(os.path.join(cc, "pypi-3.3.2", "data", "hardware", "cpu_power.csv"), newline="") as f:
        for r in csv.DictReader(f):
            # a few names carry zero-width spaces from the scrape
            # (and the embedded file is split on commas, so none may stay in a name)
            name = r["Name"].replace("\u200b", "").replace(",", " ").strip().strip('"').strip()
            name = re.sub(r"\s+", " ", name)
            if not re.match(r"^(Intel|AMD|Apple) |^Cortex-", name):
                dropped += 1
                continue
            key = name.lower()
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
            try:
                tdp = float(r["TDP"])
            except ValueError:  # four Celeron rows hold garbled ranges such as "27.29.5"
                print(f"skipped {name!r}: TDP {r['TDP']!r} is not a number", file=sys.stderr)
                dropped += 1
                continue
            cores, threads = topo.get(clean(name), (None, None))
            if cores:
                joined += 1
                if re.search(r"xeon|epyc", key):
                    per_thread.append(tdp / (threads or 2 * cores))
            out.writerow([name, f"{tdp:g}", cores or "", threads or ""])
            kept += 1
    print(
        f"kept {kept}, dropped {dropped}, with cores {joined}; server parts W/thread median "
        f"{statistics.median(per_thread):.2f} (n={len(per_thread)})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
