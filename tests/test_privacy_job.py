"""The privacy job at smoke size: the module entry point and papermill on a memorising probe run of demo faces."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
METRIC_KEYS = ("auc", "auc_ci", "tpr_at_1pct_fpr", "share_above_threshold", "per_syndrome", "tstr_macro_top1")


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    "A smoke demo cohort without its outsiders, and a memorising probe run of its kept photos."
    from gestaltm3d.core import atomic_write_table
    from gestaltm3d.data import read_cohort
    from gestaltm3d.demo import DemoSettings, build_demo_cohort
    from gestaltm3d.kept_partition import apply_partition, kept_partition
    from gestaltm3d.privacy import outsider_split, perturb_photo, write_probe_run

    folder = tmp_path_factory.mktemp("privacy")
    build_demo_cohort(folder / "demo", DemoSettings(scale=0.03, seed=1), workers=1)
    real, _ = outsider_split(read_cohort(folder / "demo" / "cohort.csv", check_images=False), seed=1)
    cohort = atomic_write_table(real, folder / "real" / "cohort.csv")
    partition = kept_partition(real, seed=1)
    kept = apply_partition(real, partition).query("partition == 'kept'")
    return cohort, write_probe_run(folder / "memorising", kept, partition, transform=perturb_photo, seed=1)


def params_file(folder: Path, cohort: Path, gan_run: Path, **settings) -> Path:
    "Write params/privacy_demo.yaml with the smoke cohort and probe run, small bootstrap and training, and changes."
    values = yaml.safe_load((ROOT / "params" / "privacy_demo.yaml").read_text())
    values.update(cohort=str(cohort), gan_run=str(gan_run), n_boot=50, tstr_epochs=2, copying_cells=2,
                  copying_min_probes=3, **settings)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def run_module(params: Path, *overrides: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "gestaltm3d.privacy", "-p", str(params)]
    for override in overrides:
        command += ["--set", override]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)


def check_metrics(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in METRIC_KEYS:
        assert key in metrics, key
    assert metrics["auc"] >= 0.95, metrics["auc"]
    assert metrics["auc_ci"][0] <= metrics["auc"] <= metrics["auc_ci"][1]
    for name in ("similarity_distributions.png", "roc_curves.png", "nearest_pairs.png", "real_scores.csv"):
        assert (run_dir / name).stat().st_size > 0, name
    return metrics


def test_module_entry_point_runs_attack(tmp_path, probe_run):
    cohort, gan_run = probe_run
    result = run_module(params_file(tmp_path, cohort, gan_run), f"run_dir={tmp_path / 'run'}")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    metrics = check_metrics(tmp_path / "run")
    assert printed["auc"] == metrics["auc"]
    assert metrics["verification"]["dlib"]["available"]
    if not metrics["verification"]["arcface"]["available"]:
        assert "w600k_r50.onnx" in metrics["verification"]["arcface"]["reason"]


def test_module_entry_point_bad_inputs(tmp_path, probe_run):
    cohort, gan_run = probe_run
    params = params_file(tmp_path, cohort, gan_run)
    no_samples = run_module(params, f"gan_run={tmp_path / 'nowhere'}", f"run_dir={tmp_path / 'run'}")
    assert no_samples.returncode != 0
    assert "no samples folder" in no_samples.stderr
    typo = run_module(params, "embeder=dlib")
    assert typo.returncode != 0
    assert "unknown settings ['embeder']" in typo.stderr
    weights = run_module(params, f"embedder_weights={tmp_path / 'none.dat'}", f"run_dir={tmp_path / 'run'}")
    assert weights.returncode != 0
    assert "'dlib_face_recognition_resnet' not found" in weights.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_papermill_runs_privacy_notebook(tmp_path, probe_run):
    cohort, gan_run = probe_run
    executed, run_dir = tmp_path / "executed.ipynb", tmp_path / "run"
    command = [str(BIN / "papermill"), str(ROOT / "nbs" / "07_privacy.ipynb"), str(executed),
               "-f", str(params_file(tmp_path, cohort, gan_run)), "-p", "run_dir", str(run_dir),
               "-k", "python3", "--cwd", str(ROOT / "nbs"), "--no-progress-bar"]
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    check_metrics(run_dir)
    cells = json.loads(executed.read_text())["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    assert f"gan_run = \"{gan_run}\"" in "".join(injected[0]["source"]).replace("'", '"')


def test_untrained_generator_samples_use_fallback_box(tmp_path, probe_run):
    "Samples written by gestaltm3d.stylegan3.sample_classes from an untrained generator: no faces, so the box is used."
    import pandas as pd

    from gestaltm3d.kept_partition import load_partition
    from gestaltm3d.privacy import PrivacySettings, run_privacy_job
    from gestaltm3d.sg3_networks import Generator, SG3Config
    from gestaltm3d.stylegan3 import sample_classes
    from gestaltm3d.syndromes import syndrome_names

    cohort, memorising = probe_run
    class_names = syndrome_names(include_unaffected=True)
    generator = Generator(SG3Config.tiny(32, c_dim=len(class_names))).eval()
    manifest, _ = sample_classes(generator, class_names, tmp_path / "gan" / "samples", seeds=[0, 1], truncation_psi=0.7)
    (tmp_path / "gan" / "partition.csv").write_text((memorising / "partition.csv").read_text())
    settings = dict(gan_run=str(tmp_path / "gan"), cohort=str(cohort), n_boot=20, tstr=False, copying_cells=2,
                    copying_min_probes=1)

    metrics = run_privacy_job(PrivacySettings(**settings, run_dir=str(tmp_path / "boxed")))
    assert metrics["counts"]["probe"]["embedded"] + sum(metrics["counts"]["probe"]["skipped"].values()) == len(manifest)
    assert metrics["counts"]["probe"]["fallback_box"] >= 1
    probe_set = pd.read_csv(tmp_path / "boxed" / "probe_set.csv")
    assert sorted(probe_set["syndrome"].unique()) == sorted(class_names)
    assert set(probe_set["truncation_psi"]) == {0.7}
    assert len(load_partition(tmp_path / "gan" / "partition.csv")) > 0

    with pytest.raises(ValueError, match="no synthetic probes|no face found"):
        run_privacy_job(PrivacySettings(**settings, run_dir=str(tmp_path / "unboxed"), fallback_box=False))
