"""Produce emissions.csv with the real CodeCarbon (offline mode, no network, no API key).

Run from this directory:  python3 -m pip install codecarbon==3.3.2 && python3 generate.py
Writes two rows (two tracker runs of ~2 s busy loop each) to ./emissions.csv.
"""
import time

from codecarbon import OfflineEmissionsTracker

for project in ("fixture-busy-a", "fixture-busy-b"):
    tracker = OfflineEmissionsTracker(
        project_name=project,
        country_iso_code="FRA",
        measure_power_secs=1,
        output_dir=".",
        log_level="error",
    )
    tracker.start()
    end = time.time() + 2
    x = 0
    while time.time() < end:
        x += 1
    tracker.stop()
