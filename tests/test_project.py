"""Project-level checks: notebook hygiene, the exported package, the papermill parameters tag."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBDEV_BIN = Path(sys.executable).parent


def _nbdev(command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(NBDEV_BIN / command), *args], cwd=cwd, capture_output=True, text=True, check=True)


def _tagged_notebook(path: Path) -> None:
    cells = [
        {"cell_type": "code", "execution_count": 3, "id": "a1", "metadata": {"tags": ["parameters"], "scrolled": True},
         "outputs": [], "source": ["seed = 0\n", "scale = 0.05"]},
        {"cell_type": "code", "execution_count": 4, "id": "a2", "metadata": {"collapsed": False},
         "outputs": [], "source": ["print(seed)"]},
    ]
    notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))


def test_parameters_tag_survives_nbdev_clean(tmp_path):
    project = tmp_path / "project"
    (project / "nbs").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    notebook = project / "nbs" / "params.ipynb"
    _tagged_notebook(notebook)

    _nbdev("nbdev-clean", "--fname", str(notebook), cwd=project)

    cells = json.loads(notebook.read_text())["cells"]
    assert cells[0]["metadata"] == {"tags": ["parameters"]}
    assert cells[1]["metadata"] == {}
    assert cells[0]["execution_count"] is None


def test_parameters_tag_dropped_without_config(tmp_path):
    # The check above must be able to fail: without `tags` in allowed_cell_metadata_keys nbdev drops it.
    project = tmp_path / "project"
    (project / "nbs").mkdir(parents=True)
    config = (ROOT / "pyproject.toml").read_text().replace('allowed_cell_metadata_keys = ["tags"]\n', "")
    (project / "pyproject.toml").write_text(config)
    notebook = project / "nbs" / "params.ipynb"
    _tagged_notebook(notebook)

    _nbdev("nbdev-clean", "--fname", str(notebook), cwd=project)

    assert "tags" not in json.loads(notebook.read_text())["cells"][0]["metadata"]


def test_notebooks_are_clean(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "nbs", copy / "nbs")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    _nbdev("nbdev-clean", cwd=copy)
    changed = [p.name for p in sorted((ROOT / "nbs").glob("*.ipynb")) if p.read_text() != (copy / "nbs" / p.name).read_text()]
    assert changed == [], f"run `nbdev-clean` before committing; not clean: {changed}"


def test_package_matches_notebooks(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "nbs", copy / "nbs")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "gestaltm3d").mkdir()
    shutil.copy(ROOT / "gestaltm3d" / "__init__.py", copy / "gestaltm3d" / "__init__.py")
    _nbdev("nbdev-export", cwd=copy)
    exported = sorted(p.name for p in (copy / "gestaltm3d").glob("*.py"))
    committed = sorted(p.name for p in (ROOT / "gestaltm3d").glob("*.py"))
    assert exported == committed, "run `nbdev-export`: module list differs"
    stale = [name for name in exported if (copy / "gestaltm3d" / name).read_text() != (ROOT / "gestaltm3d" / name).read_text()]
    assert stale == [], f"run `nbdev-export`: modules out of date with their notebooks: {stale}"


def _reproduced_notebooks() -> list[str]:
    from gestaltm3d.reproduce import PARAMS_SETS
    return sorted({step.notebook for steps in PARAMS_SETS.values() for step in steps})


@pytest.mark.parametrize("notebook", _reproduced_notebooks())
def test_parameterized_notebooks_have_parameters_cell(notebook):
    cells = json.loads((ROOT / "nbs" / notebook).read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{notebook} needs exactly one cell tagged 'parameters' for papermill"


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    commands = [line.strip() for line in readme.splitlines() if line.startswith("bash ")][:2]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


def test_papermill_reads_every_parameter():
    import papermill

    for notebook in sorted((ROOT / "nbs").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        if not tagged:
            continue
        names = {line.split("=")[0].strip() for line in "".join(tagged[0]["source"]).splitlines()
                 if "=" in line and not line.lstrip().startswith("#")}
        inferred = set(papermill.inspect_notebook(str(notebook)))
        assert names == inferred, f"{notebook.name}: papermill cannot parse {sorted(names - inferred)}"
