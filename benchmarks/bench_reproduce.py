"""Full reproduction of the demo set: wall time from cold, then with nothing changed.

Run from the repository root:
    .venv/bin/python benchmarks/bench_reproduce.py --cold     # move earlier outputs aside, run everything, run again
    .venv/bin/python benchmarks/bench_reproduce.py            # two runs on the current state (the second should run 0)

`--cold` moves the demo cohort, the processed images, the demo run folders and the runner's state
into `runs/bench_reproduce_backup/<time>/` (nothing is deleted), so the first run starts with no
data and no runs, as in a fresh clone. `--cache DIR` also points GESTALTM3D_CACHE at DIR, so the
external files (MediaPipe models, the HPO release, the tiny backbones) are extracted again.
Writes benchmarks/results/reproduce.json.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "reproduce.json"


def demo_outputs() -> list[Path]:
    "Return the folders and files that the demo set writes, read from its params files."
    import yaml

    from gestaltm3d.reproduce import DEMO_STEPS

    paths = {ROOT / "runs" / "reproduce"}
    for step in DEMO_STEPS:
        params = yaml.safe_load((ROOT / step.params_file).read_text()) or {}
        for key in ("out_dir", "run_dir", "runs_root"):
            if params.get(key):
                paths.add(ROOT / params[key])
    paths.add(ROOT / "data" / "processed" / "demo")
    return sorted(p for p in paths if p.exists())


def move_aside(paths: list[Path]) -> Path:
    "Move `paths` into a time-stamped backup folder under runs/ and return it."
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = ROOT / "runs" / "bench_reproduce_backup" / stamp
    for path in paths:
        target = backup / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        print(f"moved {path.relative_to(ROOT)} to {target.relative_to(ROOT)}", flush=True)
    return backup


def _finished_at() -> dict:
    "Return the finish time of each step's last successful run, from the runner's state file."
    path = ROOT / "runs" / "reproduce" / "state.json"
    state = json.loads(path.read_text()).get("demo", {}) if path.is_file() else {}
    return {step: record.get("finished_at") for step, record in state.items()}


def run_once(env: dict) -> dict:
    "Run the demo set through the command line and return its wall time and the steps it executed."
    before = _finished_at()
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "gestaltm3d.reproduce"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    seconds = time.perf_counter() - started
    sys.stderr.write(process.stderr[-4000:])
    if process.returncode != 0:
        raise SystemExit(f"reproduction failed (exit {process.returncode}); see the log above")
    print(process.stdout.strip().splitlines()[-1], flush=True)

    after = _finished_at()
    executed = [step for step, finished in after.items() if finished != before.get(step)]
    state = json.loads((ROOT / "runs" / "reproduce" / "state.json").read_text())["demo"]
    return {"seconds": round(seconds, 1), "executed": executed,
            "step_seconds": {step: state[step].get("seconds") for step in executed}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="move earlier outputs aside before the first run")
    parser.add_argument("--cache", help="use this folder as GESTALTM3D_CACHE (empty for a cold cache)")
    arguments = parser.parse_args()

    env = dict(os.environ)
    if arguments.cache:
        env["GESTALTM3D_CACHE"] = str(Path(arguments.cache).resolve())
    backup = move_aside(demo_outputs()) if arguments.cold else None

    first = run_once(env)
    second = run_once(env)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    result = {
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit, "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "cold": arguments.cold, "cold_cache": bool(arguments.cache), "backup": str(backup.relative_to(ROOT)) if backup else None,
        "first_run": first, "second_run": second,
        "targets": {"first_run_seconds": 3600, "second_run_seconds": 60, "second_run_executed": 0},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"first run {first['seconds'] / 60:.1f} min ({len(first['executed'])} notebooks), second run "
          f"{second['seconds']:.0f} s ({len(second['executed'])} notebooks); written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
