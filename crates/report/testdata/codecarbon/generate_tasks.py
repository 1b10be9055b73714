"""Produce emissions_tasks.csv, a CodeCarbon task file, with the real CodeCarbon (offline, no network).

Run from this directory:  python3 -m pip install codecarbon==3.3.2 && python3 generate_tasks.py
One OfflineEmissionsTracker with two tasks (`start_task` / `stop_task`, ~2 s busy loop each).
On `stop()` CodeCarbon writes `emissions_<experiment_name>_<run_id>.csv` (one row per task)
beside the run's `emissions.csv`; both go to a scratch directory and only the task file is
copied here, renamed emissions_tasks.csv (its content untouched).
"""
import glob
import os
import shutil
import tempfile
import time

from codecarbon import OfflineEmissionsTracker


def busy(seconds):
    end = time.time() + seconds
    x = 0
    while time.time() < end:
        x += 1


with tempfile.TemporaryDirectory() as out:
    tracker = OfflineEmissionsTracker(
        project_name="fixture-tasks",
        country_iso_code="FRA",
        measure_power_secs=1,
        output_dir=out,
        log_level="error",
    )
    tracker.start()
    for task in ("tokenize", "forward"):
        tracker.start_task(task)
        busy(2)
        tracker.stop_task()
    tracker.stop()
    (task_file,) = [p for p in glob.glob(os.path.join(out, "emissions_*.csv"))]
    print("CodeCarbon wrote", os.path.basename(task_file))
    shutil.copyfile(task_file, "emissions_tasks.csv")
