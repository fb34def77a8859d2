"""The main job's module entry point at smoke size: a real kill and resume, and two processes against one."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# One thread per process keeps the runs reproducible and fair on a 2-core machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def smoke_cohort(tmp_path_factory):
    from gestaltm3d.demo import DemoSettings, build_demo_cohort

    # Scale 0.1 gives 34 training rows with HPO text, so max_train_images=32 keeps 32: a whole number of global
    # batches of 4. With fewer, DistributedSampler would pad the last batch with repeated rows in two processes only.
    folder = tmp_path_factory.mktemp("cohort") / "demo"
    build_demo_cohort(folder, DemoSettings(scale=0.1, seed=0), workers=1)
    return folder / "cohort.csv"


def params_file(folder: Path, cohort: Path, **settings) -> Path:
    "Write a params file: params/demo.yaml with the smoke cohort and the given changes."
    values = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text())
    values.update({"cohort": str(cohort), "epochs": 3, "n_boot": 20, "max_train_images": 32, **settings})
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def run_entry_point(params: Path, run_dir: Path, *launcher: str) -> subprocess.CompletedProcess:
    command = [*launcher, "-m", "gestaltm3d.train_vl", "-p", str(params), "--set", f"run_dir={run_dir}"]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)


def last_epoch(run_dir: Path) -> int:
    state = run_dir / "checkpoints" / "last" / "trainer_state.json"
    return json.loads(state.read_text())["epoch"] if state.is_file() else 0


def comparable(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if key not in ("cohort",)}


def test_killed_run_resumes_to_the_same_metrics(tmp_path, smoke_cohort):
    params = params_file(tmp_path, smoke_cohort)
    whole = run_entry_point(params, tmp_path / "whole", sys.executable)
    assert whole.returncode == 0, whole.stderr[-3000:]

    killed_dir = tmp_path / "killed"
    command = [sys.executable, "-m", "gestaltm3d.train_vl", "-p", str(params), "--set", f"run_dir={killed_dir}"]
    process = subprocess.Popen(command, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while last_epoch(killed_dir) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 1 <= last_epoch(killed_dir) < 3, "the kill should land after the first epoch and before the last"
    assert not (killed_dir / "metrics.json").exists()

    resumed = run_entry_point(params, killed_dir, sys.executable)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed" in resumed.stderr
    whole_metrics = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    assert comparable(json.loads((killed_dir / "metrics.json").read_text())) == comparable(whole_metrics)
    pd.testing.assert_frame_equal(pd.read_csv(killed_dir / "predictions.csv"),
                                  pd.read_csv(tmp_path / "whole" / "predictions.csv"))


def test_two_gloo_processes_match_one(tmp_path, smoke_cohort):
    # Dropout draws differ between one and two processes, so it is off; the global batch is 4 in both runs.
    one = run_entry_point(params_file(tmp_path, smoke_cohort, batch_size=4, dropout=0.0), tmp_path / "one",
                          sys.executable)
    assert one.returncode == 0, one.stderr[-3000:]
    two = run_entry_point(params_file(tmp_path, smoke_cohort, batch_size=2, dropout=0.0), tmp_path / "two",
                          sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2")
    assert two.returncode == 0, two.stderr[-3000:]
    assert "training in 2 processes" in two.stderr
    assert "train 32 (rows with HPO text)" in one.stderr  # whole global batches, so no padded rows

    logs = [[json.loads(line) for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]
            for name in ("one", "two")]
    assert len(logs[0]) == len(logs[1]) == 3
    for single, double in zip(*logs):
        np.testing.assert_allclose(double["train_loss"], single["train_loss"], atol=1e-4)
        np.testing.assert_allclose(double["val"]["loss"], single["val"]["loss"], atol=1e-4)
    # The first epoch must have moved the weights, or equal losses would prove nothing.
    assert abs(logs[0][2]["train_loss"] - logs[0][0]["train_loss"]) > 1e-3


def test_papermill_runs_the_main_job_notebook(tmp_path, smoke_cohort):
    # The README's main-job route: papermill with a params file, here the demo params on the smoke cohort.
    run_dir = tmp_path / "run"
    # Relative paths in a params file start at the repository root, while papermill runs in nbs/.
    params = params_file(tmp_path, Path(os.path.relpath(smoke_cohort, ROOT)), epochs=1, run_dir=str(run_dir))
    command = [str(Path(sys.executable).parent / "papermill"), str(ROOT / "nbs" / "05_train_vl.ipynb"),
               str(tmp_path / "executed.ipynb"), "-f", str(params), "-k", "python3", "--cwd", str(ROOT / "nbs"),
               "--no-progress-bar"]
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["n_test"] > 0
    assert 0 <= metrics["macro_top1"] <= 1
    for name in ("confusion_matrix.png", "training_curves.png", "predictions.csv", "job.json"):
        assert (run_dir / name).stat().st_size > 0
