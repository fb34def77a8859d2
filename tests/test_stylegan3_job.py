"""The GAN job's module entry point at smoke size: a real kill and resume, a corrupt checkpoint, and two processes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent
# One thread per process keeps the runs reproducible and fair on a 2-core machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TICKS = 6


@pytest.fixture(scope="module")
def smoke_cohort(tmp_path_factory):
    from gestaltm3d.demo import DemoSettings, build_demo_cohort

    folder = tmp_path_factory.mktemp("cohort") / "demo"
    build_demo_cohort(folder, DemoSettings(scale=0.03, seed=0), workers=1)
    return folder / "cohort.csv"


def params_file(folder: Path, cohort: Path, **settings) -> Path:
    "Write a params file: params/stylegan3_demo.yaml at smoke size, with the given changes."
    values = yaml.safe_load((ROOT / "params" / "stylegan3_demo.yaml").read_text())
    values.update(cohort=str(cohort), resolution=32, batch_size=4, tick_kimg=0.016, kimg=0.016 * TICKS,
                  samples_per_class=2, class_check_epochs=2, n_boot=20)
    values.update(settings)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def entry_point(params: Path, run_dir: Path, *launcher: str) -> list[str]:
    return [*launcher, "-m", "gestaltm3d.stylegan3", "-p", str(params), "--set", f"run_dir={run_dir}"]


def last_tick(run_dir: Path) -> int:
    state = run_dir / "checkpoints" / "last" / "trainer_state.json"
    try:
        return json.loads(state.read_text())["tick"] if state.is_file() else 0
    except json.JSONDecodeError:  # read while being replaced
        return 0


def comparable(metrics: dict) -> dict:
    "Drop the timing entries, which differ between runs."
    return {key: value for key, value in metrics.items() if key != "sec_per_kimg"}


def test_killed_run_resumes_to_the_same_weights(tmp_path, smoke_cohort):
    params = params_file(tmp_path, smoke_cohort)
    whole = subprocess.run(entry_point(params, tmp_path / "whole", sys.executable), capture_output=True, text=True,
                           env=ENV, cwd=ROOT, timeout=600)
    assert whole.returncode == 0, whole.stderr[-3000:]

    killed_dir = tmp_path / "killed"
    process = subprocess.Popen(entry_point(params, killed_dir, sys.executable), env=ENV, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while last_tick(killed_dir) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 2 <= last_tick(killed_dir) < TICKS, "the kill should land after the second tick and before the last"
    assert not (killed_dir / "generator").exists()

    resumed = subprocess.run(entry_point(params, killed_dir, sys.executable), capture_output=True, text=True, env=ENV,
                             cwd=ROOT, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed" in resumed.stderr
    for part in ("generator", "discriminator", "generator_ema"):
        expected = load_file(tmp_path / "whole" / "checkpoints" / "last" / part / "model.safetensors")
        found = load_file(killed_dir / "checkpoints" / "last" / part / "model.safetensors")
        assert expected.keys() == found.keys()
        for name in expected:
            assert torch.equal(expected[name], found[name]), f"{part}.{name} differs after resume"
    whole_metrics = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    assert comparable(json.loads((killed_dir / "metrics.json").read_text())) == comparable(whole_metrics)
    stats = [json.loads(line) for line in (killed_dir / "stats.jsonl").read_text().splitlines()]
    assert [record["tick"] for record in stats] == list(range(1, TICKS + 1))

    # A truncated weights file stops the next resume with a message that names the checkpoint.
    weights = killed_dir / "checkpoints" / "last" / "discriminator" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:64])
    corrupt = subprocess.run(entry_point(params, killed_dir, sys.executable), capture_output=True, text=True, env=ENV,
                             cwd=ROOT, timeout=600)
    assert corrupt.returncode != 0
    assert "is corrupt or incomplete (discriminator" in corrupt.stderr


def test_two_gloo_processes_train_and_sample(tmp_path, smoke_cohort):
    params = params_file(tmp_path, smoke_cohort, kimg=0.032, tick_kimg=0.016)
    two = subprocess.run(entry_point(params, tmp_path / "two", sys.executable, "-m", "torch.distributed.run",
                                     "--standalone", "--nproc_per_node", "2"),
                         capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    assert "training in 2 processes" in two.stderr
    stats = [json.loads(line) for line in (tmp_path / "two" / "stats.jsonl").read_text().splitlines()]
    assert [record["kimg"] for record in stats] == [0.016, 0.032]
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["kimg"] == 0.032
    assert metrics["class_check_n_samples"] == 22
