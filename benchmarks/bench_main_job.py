"""Measure the demo main job and its ablations on this machine.

Runs `python -m gestaltm3d.train_vl -p params/demo.yaml` as a separate process into a fresh
folder and records its wall time, peak memory (the child's maximum resident set size) and
training throughput (training samples per second of training time, from the run's log.jsonl).
Peak memory is the child's VmHWM from /proc, read every half second (Linux only).
Then, unless --main-only is given, it runs the other variants of `gestaltm3d.ablations.ABLATIONS`
the same way: image only, text only, the small CNN, the HPO-similarity baseline and others. It
tabulates macro top-1 with patient-level intervals. It also estimates image + text minus the better
single modality with a paired patient-level bootstrap. Writes benchmarks/results/main_job.json.

The demo cohort must be built and preprocessed first (`bash scripts/demo.sh` does both).

    python benchmarks/bench_main_job.py [--variants image,text,cnn,hpo_similarity] [--main-only]
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from gestaltm3d.ablations import ABLATIONS, ablation_table, modality_gain, parse_variants
from gestaltm3d.core import atomic_write_json, project_root

ROOT = project_root()
PARAMS = ROOT / "params" / "demo.yaml"
DEFAULT_VARIANTS = ["image", "text", "image+text+demographics", "image+text, no modality dropout", "cnn", "hpo_similarity"]


def _peak_rss_kib(pid: int) -> int:
    "Return the peak resident set size (VmHWM) of a running process in KiB, or 0 once it has ended."
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run_variant(name: str, run_dir: Path) -> dict:
    "Run one variant of the main job in a child process; return its time, peak memory and throughput."
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    changes = [f"{key}={json.dumps(value)}" for key, value in ABLATIONS[name].items()]
    command = [sys.executable, "-m", "gestaltm3d.train_vl", "-p", str(PARAMS), "--set", f"run_dir={run_dir}"]
    for change in changes:
        command += ["--set", change]
    started, peak_kib = time.perf_counter(), 0
    with open(run_dir.parent / f"{run_dir.name}.stderr.log", "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        while process.poll() is None:
            peak_kib = max(peak_kib, _peak_rss_kib(process.pid))
            time.sleep(0.5)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"variant {name!r} failed; see {stderr.name}")
    record = {"variant": name, "seconds": round(seconds, 1), "peak_rss_gib": round(peak_kib / 2**20, 2)}
    log_path = run_dir / "log.jsonl"
    if log_path.is_file():
        log = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
        samples = sum(entry.get("train_samples") or 0 for entry in log)
        train_seconds = sum(entry.get("train_seconds") or 0 for entry in log)
        record.update(epochs=len(log), train_samples=samples, train_seconds=round(train_seconds, 1),
                      samples_per_second=round(samples / train_seconds, 2) if train_seconds else None)
    print(json.dumps(record), flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help="comma-separated ablation variants to run besides image+text")
    parser.add_argument("--main-only", action="store_true", help="measure only the main job (image+text)")
    parser.add_argument("--runs-root", default=str(ROOT / "runs" / "bench_main_job"))
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep variants whose run folder already contains metrics.json and a timing record")
    arguments = parser.parse_args()

    runs_root = Path(arguments.runs_root)
    try:
        others = [] if arguments.main_only else parse_variants(arguments.variants)
    except ValueError as error:
        raise SystemExit(str(error))
    names = ["image+text"] + [name for name in others if name != "image+text"]
    runs = {name: runs_root / name.replace("+", "_").replace(", ", "_").replace(" ", "_") for name in names}
    previous = {}
    results_path = ROOT / "benchmarks" / "results" / "main_job.json"
    if arguments.reuse and results_path.is_file():
        previous = {record["variant"]: record for record in json.loads(results_path.read_text())["timings"]}
    timings = []
    for name, run_dir in runs.items():
        if name in previous and (run_dir / "metrics.json").is_file():
            timings.append(previous[name])
            continue
        timings.append(run_variant(name, run_dir))
        # Save after each variant, so that --reuse can continue an interrupted benchmark.
        atomic_write_json(results_path, {**(json.loads(results_path.read_text()) if results_path.is_file() else {}),
                                         "timings": timings + [record for key, record in previous.items()
                                                               if key not in {t["variant"] for t in timings}]})

    table = ablation_table(runs)
    print(table.round(3).to_string())
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
               "params": str(PARAMS.relative_to(ROOT)), "timings": timings,
               "table": table.reset_index().to_dict("records")}
    if {"image", "text"} <= set(runs):
        gain = modality_gain(runs, n_boot=arguments.n_boot)
        results["modality_gain"] = gain
        print(f"image+text minus {gain['better_single_modality']}: {gain['difference']:+.3f} macro top-1 "
              f"(95 % CI {gain['ci'][0]:+.3f} to {gain['ci'][1]:+.3f})")
    atomic_write_json(results_path, results)


if __name__ == "__main__":
    main()
