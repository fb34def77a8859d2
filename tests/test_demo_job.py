"""The README's main job, at smoke size: papermill runs the demo cohort notebook with parameters."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_papermill_builds_demo_cohort(tmp_path):
    out_dir = tmp_path / "demo"
    executed = tmp_path / "executed.ipynb"
    command = [str(BIN / "papermill"), str(ROOT / "nbs" / "03_demo_cohort.ipynb"), str(executed),
               "-p", "out_dir", str(out_dir), "-p", "scale", "0.03", "-p", "seed", "3",
               "-k", "python3", "--cwd", str(ROOT / "nbs"), "--no-progress-bar"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    cohort = pd.read_csv(out_dir / "cohort.csv", dtype=str)
    assert len(cohort) >= 30
    assert set(cohort.split) == {"train", "val", "test"}
    assert (out_dir / "README.md").read_text().startswith("# Synthetic demo cohort")
    settings = json.loads((out_dir / "settings.json").read_text())
    assert settings["scale"] == 0.03
    assert settings["seed"] == 3

    cells = json.loads(executed.read_text())["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    assert "scale = 0.03" in "".join(injected[0]["source"])


def test_stats_command_prints_table(tmp_path):
    from gestaltm3d.demo import DemoSettings, build_demo_cohort

    build_demo_cohort(tmp_path / "demo", DemoSettings(scale=0.01, seed=1), workers=1)
    result = subprocess.run([str(BIN / "gestaltm3d-demo"), "stats", str(tmp_path / "demo")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Williams-Beuren" in result.stdout
    assert "Unaffected" in result.stdout

    missing = subprocess.run([str(BIN / "gestaltm3d-demo"), "stats", str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert missing.returncode == 2
    assert "build it first" in missing.stderr
