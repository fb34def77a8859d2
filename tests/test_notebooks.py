"""Run every notebook in nbs/ the way `nbdev-test` does: all cells except those flagged `notest`/`slow`."""
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook_tests

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("_"))


def _skip_flags() -> list[str]:
    flags = get_config(ROOT).tst_flags
    return flags.split() if isinstance(flags, str) else list(flags)


def test_notebooks_found():
    assert len(NOTEBOOKS) >= 2, f"expected notebooks in {ROOT / 'nbs'}, found {NOTEBOOKS}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(notebook):
    passed, seconds = run_notebook_tests(notebook, skip_flags=_skip_flags(), basepath=ROOT, cell_timeout=600)
    assert passed, f"{notebook.name} failed after {seconds:.0f} s; its traceback is printed above"
