"""The figures job from the command line: its params file, its input checks, and a run on a small cohort table."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_module(params: Path, *overrides: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "gestaltm3d.figures", "-p", str(params)]
    for override in overrides:
        command += ["--set", override]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)


@pytest.fixture
def small_cohort(tmp_path) -> Path:
    "A cohort table of three syndromes from a non-demo source, without image files (the job must not draw faces)."
    rows = []
    for number, (syndrome, split, sex, age, hpo) in enumerate([
            ("Kabuki", "train", "female", 1.5, "HP:0000316"), ("Kabuki", "test", "male", 4.0, "HP:0000494"),
            ("Noonan", "train", "male", 12.0, ""), ("Noonan", "val", "female", 7.0, "HP:0000316;HP:0000494"),
            ("KBG", "test", "female", 25.0, "HP:0000316"), ("Unaffected", "train", "male", 3.0, "")]):
        for photo in range(1 + number % 2):  # patients with one or two photos
            rows.append({"image_id": f"{number}-{photo}", "patient_id": f"p{number}", "image_path": f"images/{number}.png",
                         "syndrome": syndrome, "hpo_present": hpo, "sex": sex, "age_years": age + photo, "split": split,
                         "source": "gmdb"})
    path = tmp_path / "cohort.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_params_file_sets_every_setting():
    from gestaltm3d.figures import FiguresSettings

    names = sorted(field.name for field in dataclasses.fields(FiguresSettings))
    assert sorted(yaml.safe_load((ROOT / "params" / "figures_demo.yaml").read_text())) == names
    cells = json.loads((ROOT / "nbs" / "08b_figures.ipynb").read_text())["cells"]
    parameters = next(cell for cell in cells if "parameters" in cell["metadata"].get("tags", []))
    assigned = {line.split("=")[0].strip() for line in "".join(parameters["source"]).splitlines() if "=" in line}
    assert set(names) <= assigned, sorted(set(names) - assigned)


def test_module_skips_figures_without_inputs(tmp_path, small_cohort):
    out_dir = tmp_path / "out"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"cohort": str(small_cohort), "out_dir": str(out_dir)}))
    result = run_module(params)
    assert result.returncode == 0, result.stderr[-3000:]

    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed == {"dataset_stats": "written", "example_cases": "skipped", "main_results": "skipped",
                       "ablations": "skipped", "stylegan3_privacy": "skipped", "kept_vs_heldout": "skipped",
                       "synthetic_grid": "skipped", "model_card": "skipped"}
    report = json.loads((out_dir / "figures_report.json").read_text())
    assert "may be patient photos" in report["example_cases"]["reason"]
    assert report["main_results"]["reason"] == "main_run is not set"
    assert "main_results skipped: main_run is not set" in result.stderr  # logged, not silent
    assert not (out_dir / "example_cases.png").exists()

    cohort = pd.read_csv(small_cohort)
    stats = pd.read_csv(out_dir / "dataset_stats.csv").set_index("syndrome")
    for syndrome, rows in cohort.groupby("syndrome"):
        assert stats.loc[syndrome, "images"] == len(rows)
        assert stats.loc[syndrome, "patients"] == rows["patient_id"].nunique()
        assert stats.loc[syndrome, "test"] == (rows["split"] == "test").sum()
        assert stats.loc[syndrome, "hpo_share"] == pytest.approx(rows["hpo_present"].notna().mean())
    assert stats.loc["total", "images"] == len(cohort)
    assert stats.loc["total", "age_18-200"] == (cohort["age_years"] >= 18).sum()
    # Kabuki: one photo at 1.5 years, and a patient photographed at 4 and at 5 years (groups are [low, high) years).
    assert stats.loc["Kabuki", ["age_0-2", "age_2-5", "age_5-10"]].tolist() == [1, 1, 1]
    assert (out_dir / "dataset_stats.png").stat().st_size > 10_000


def test_module_rejects_missing_run(tmp_path, small_cohort):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"cohort": str(small_cohort), "out_dir": str(tmp_path / "out")}))
    result = run_module(params, f"main_run={tmp_path / 'nowhere'}")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "main_run=" in result.stderr
    assert "not found" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing is written before the inputs check out
