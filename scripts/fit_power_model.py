#!/usr/bin/env python3
"""Fit and validate powerhungry's CPU load->power model on CodeCarbon's calibration runs.

Usage:  python3 scripts/fit_power_model.py [--data DIR] [--markdown]

DIR defaults to ../shared/reference-data/codecarbon/repo/data/hardware/cpu_load_profiling
(relative to the repository root). Pure Python 3 standard library: no numpy needed.

What it does (see docs/power-model.md for the reasoning):
  * measured package power of a step = rapl_energy (kWh) * 3.6e6 / duration (s). The
    `rapl_power` column lags one step behind (it is the previous interval's power), so it is
    reported beside, not used as the truth.
  * y = P / TDP_machine, x = cpu_load / 100, TDP_machine = table TDP x sockets.
  * candidate models in normalised form, fitted by least squares on y (each CPU weighted equally):
        codecarbon : 0.1 + 0.9 x^3                (published, no fit)
        linear     : a + b x
        power      : a + b x^k                    (k by grid search, a and b closed form)
  * leave-one-CPU-out (both Xeon E3-1240 V2 runs form one fold): fit on the other CPUs,
    predict the held-out one. Errors per CPU: MAPE (%) and RMSE (W) per step, and the error
    of the run's total energy (%).
  * wall plug (Threadripper only): the increase over the idle step, wall vs model.
Prints the final coefficients fitted on all CPUs; they are embedded in
crates/meter/src/estimate/cpu.rs.
"""

import argparse
import csv
import glob
import math
import os
import sys

# TDP per socket from cpu_power.csv (CodeCarbon 3.3.2) and sockets inferred from the runs:
# cores_used (logical CPUs) vs threads per socket (ARK/AMD: E5-2620 v3 is 6C/12T, the run
# shows 24 logical CPUs, so a 2-socket machine and RAPL sums two packages).
CPUS = {
    "AMD EPYC 8024P 8-Core Processor": ("EPYC 8024P", 90.0, 1),
    "AMD Ryzen Threadripper 1950X 16-Core Processor": ("TR 1950X", 180.0, 1),
    "Intel(R) Xeon(R) CPU E3-1240 V2 @ 3.40GHz": ("Xeon E3-1240 V2", 69.0, 1),
    "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz": ("Xeon E5-2620 v3 x2", 85.0, 2),
}


def load_rows(data_dir):
    rows = []
    for path in sorted(glob.glob(os.path.join(data_dir, "*", "*.csv"))):
        run = os.path.basename(os.path.dirname(path)) + ("/all" if "all_cores" in path else "/some")
        with open(path, newline="") as f:
            for line_no, r in enumerate(csv.DictReader(f), start=2):
                name = r["cpu_name"]
                if name not in CPUS:
                    sys.exit(f"{path}:{line_no}: unknown cpu_name {name!r}")
                label, tdp, sockets = CPUS[name]
                dur = float(r["duration"])
                tapo = float(r["tapo_power"] or 0)
                rows.append(
                    {
                        "cpu": label,
                        "run": run,
                        "tdp": tdp * sockets,
                        "x": float(r["cpu_load"]) / 100.0,
                        "rapl": float(r["rapl_energy"]) * 3.6e6 / dur,
                        "rapl_col": float(r["rapl_power"]),
                        "wall": tapo if tapo > 0 else None,
                        "dur": dur,
                    }
                )
    if not rows:
        sys.exit(f"no calibration CSVs under {data_dir}")
    return rows


def codecarbon(_p, x):
    return 0.1 + 0.9 * x**3


def linear(p, x):
    return p[0] + p[1] * x


def power(p, x):
    return p[0] + p[1] * x ** p[2]


def ls_ab(xs, ys, ws):
    """Closed-form weighted least squares for y = a + b*x."""
    sw = sum(ws)
    mx = sum(w * x for w, x in zip(ws, xs)) / sw
    my = sum(w * y for w, y in zip(ws, ys)) / sw
    sxx = sum(w * (x - mx) ** 2 for w, x in zip(ws, xs))
    sxy = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys))
    b = sxy / sxx
    return my - b * mx, b


def weights(rows):
    """Each CPU weighs the same in a fit, whatever its number of runs and steps."""
    n = {}
    for r in rows:
        n[r["cpu"]] = n.get(r["cpu"], 0) + 1
    return [1.0 / n[r["cpu"]] for r in rows]


def fit_linear(rows):
    return ls_ab([r["x"] for r in rows], [r["rapl"] / r["tdp"] for r in rows], weights(rows))


def fit_power(rows):
    ys = [r["rapl"] / r["tdp"] for r in rows]
    ws = weights(rows)
    best = None
    for i in range(5, 301):  # k = 0.05 .. 3.00
        k = i / 100.0
        a, b = ls_ab([r["x"] ** k for r in rows], ys, ws)
        sse = sum(w * (a + b * r["x"] ** k - y) ** 2 for r, y, w in zip(rows, ys, ws))
        if best is None or sse < best[0]:
            best = (sse, (a, b, k))
    return best[1]


MODELS = {"codecarbon": (codecarbon, None), "linear": (linear, fit_linear), "power": (power, fit_power)}


def errors(rows, preds, key):
    pairs = [(p, r[key]) for p, r in zip(preds, rows) if r[key] is not None]
    mape = 100.0 * sum(abs(p - m) / m for p, m in pairs) / len(pairs)
    rmse = math.sqrt(sum((p - m) ** 2 for p, m in pairs) / len(pairs))
    e_pred = sum(p * r["dur"] for p, r in zip(preds, rows) if r[key] is not None)
    e_meas = sum(r[key] * r["dur"] for r in rows if r[key] is not None)
    return mape, rmse, 100.0 * (e_pred - e_meas) / e_meas


def loco(rows):
    """Per held-out CPU and model: (mape, rmse, energy error) against RAPL, plus the params."""
    cpus = list(dict.fromkeys(r["cpu"] for r in rows))
    out = {}
    for cpu in cpus:
        train = [r for r in rows if r["cpu"] != cpu]
        test = [r for r in rows if r["cpu"] == cpu]
        for name, (f, fit) in MODELS.items():
            p = fit(train) if fit else None
            preds = [f(p, r["x"]) * r["tdp"] for r in test]
            out[(cpu, name)] = (errors(test, preds, "rapl"), errors(test, preds, "rapl_col"), p)
    return cpus, out


def wall_deltas(rows, name, params):
    """Threadripper wall plug: increase over each run's idle step, model vs wall (W)."""
    f = MODELS[name][0]
    res = []
    for run in dict.fromkeys(r["run"] for r in rows if r["wall"] is not None):
        rs = [r for r in rows if r["run"] == run]
        idle = rs[0]
        for r in rs[1:]:
            d_model = (f(params, r["x"]) - f(params, idle["x"])) * r["tdp"]
            res.append((d_model, r["wall"] - idle["wall"], r["rapl"] - idle["rapl"]))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default = os.path.join(
        root, "..", "shared", "reference-data", "codecarbon", "repo", "data", "hardware", "cpu_load_profiling"
    )
    ap.add_argument("--data", default=default)
    args = ap.parse_args()
    rows = load_rows(args.data)
    cpus, out = loco(rows)

    print(f"{len(rows)} load steps, {len(cpus)} CPUs, {len(set(r['run'] for r in rows))} runs\n")
    print("Leave-one-CPU-out error against measured RAPL (rapl_energy / duration):\n")
    print("| held-out CPU | steps | model | MAPE % | RMSE W | run energy error % | MAPE % vs lagged `rapl_power` |")
    print("|---|---|---|---|---|---|---|")
    tot = {}
    for cpu in cpus:
        n = sum(1 for r in rows if r["cpu"] == cpu)
        for name in MODELS:
            (mape, rmse, de), (mape_col, _, _), _ = out[(cpu, name)]
            tot.setdefault(name, []).append((mape, rmse, de))
            print(f"| {cpu} | {n} | {name} | {mape:.1f} | {rmse:.1f} | {de:+.1f} | {mape_col:.1f} |")
    print("\nMean over the held-out CPUs:\n")
    print("| model | mean MAPE % | mean RMSE W | mean abs run energy error % |")
    print("|---|---|---|---|")
    for name, v in tot.items():
        n = len(v)
        print(
            f"| {name} | {sum(x[0] for x in v) / n:.1f} | {sum(x[1] for x in v) / n:.1f} | "
            f"{sum(abs(x[2]) for x in v) / n:.1f} |"
        )

    final = {name: (fit(rows) if fit else None) for name, (_, fit) in MODELS.items()}
    print("\nWall plug (Threadripper 1950X, 20 non-idle steps): increase over the run's idle step\n")
    print("| model | MAE of increase W | mean model increase W | mean wall increase W | mean RAPL increase W |")
    print("|---|---|---|---|---|")
    for name in MODELS:
        # LOCO parameters for the Threadripper fold, so the wall check is out of sample too
        params = out[("TR 1950X", name)][2]
        d = wall_deltas(rows, name, params)
        n = len(d)
        mae = sum(abs(a - b) for a, b, _ in d) / n
        print(
            f"| {name} | {mae:.1f} | {sum(a for a, _, _ in d) / n:.1f} | {sum(b for _, b, _ in d) / n:.1f} "
            f"| {sum(c for _, _, c in d) / n:.1f} |"
        )

    print("\nCoefficients fitted on all CPUs (normalised by machine TDP):")
    a, b = final["linear"]
    print(f"  linear: P/TDP = {a:.4f} + {b:.4f} * load")
    a, b, k = final["power"]
    print(f"  power:  P/TDP = {a:.4f} + {b:.4f} * load^{k:.2f}")


if __name__ == "__main__":
    main()
