"""The docs check: the privacy guard, the link check, and the HTML preview opened in headless Chromium."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from gestaltm3d.docs import (FIGURES_PAGE, PrivacyError, build_preview, check_links, check_privacy, docs_check,
                             notebook_problems, privacy_problems)
from gestaltm3d.reproduce import embed_provenance, read_provenance

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _figure(path: Path, figure_id: str, source: str) -> dict:
    "Save a small plot with embedded provenance and return its manifest entry, as gestaltm3d.reproduce writes them."
    figure = Figure(figsize=(3, 2))
    figure.subplots().bar(["a", "b", "c"], [3, 1, 2], color="tab:green")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=60)
    entry = {"figure_id": figure_id, "data_source": source, "notebook": "nbs/03_demo_cohort.ipynb",
             "params_file": "params/demo_cohort.yaml", "git_commit": "a" * 40, "git_dirty": False,
             "source_files": [f"runs/{source}/{path.name}"]}
    embed_provenance(path, entry)
    return {**entry, "files": [{"path": path.relative_to(path.parents[1]).as_posix(), "sha256": "",
                                "provenance_embedded": True}]}


def _write_manifest(root: Path, entries: dict) -> None:
    (root / "figures").mkdir(parents=True, exist_ok=True)
    (root / "figures" / "manifest.json").write_text(json.dumps({"figures": entries}, indent=1))


@pytest.fixture
def demo_root(tmp_path) -> Path:
    "A repository root with two demo figures and one diagram (SVG only) in its manifest."
    root = tmp_path / "repo"
    (root / "nbs").mkdir(parents=True)
    entries = {name: _figure(root / "figures" / f"{name}.png", name, "demo") for name in ("cohort_stats", "roc_curves")}
    entries["overview"] = _figure(root / "figures" / "overview.svg", "overview", "none")
    _write_manifest(root, entries)
    return root


def test_guard_passes_demo_manifest(demo_root):
    assert check_privacy(demo_root) == ["cohort_stats", "roc_curves", "overview"]
    assert read_provenance(demo_root / "figures" / "overview.svg")["data_source"] == "none"


def test_guard_rejects_gmdb_manifest_entry(demo_root):
    manifest = json.loads((demo_root / "figures" / "manifest.json").read_text())["figures"]
    manifest["confusion_gmdb"] = _figure(demo_root / "figures" / "confusion_gmdb.png", "confusion_gmdb", "gmdb")
    _write_manifest(demo_root, manifest)

    with pytest.raises(PrivacyError) as raised:
        check_privacy(demo_root)
    message = str(raised.value)
    for part in ("figure 'confusion_gmdb'", "data source 'gmdb'", "figures/confusion_gmdb.png", "Fix: delete"):
        assert part in message, (part, message)

    report = docs_check(demo_root, workers=0)  # the whole docs check fails too, not only the guard
    assert not report.ok
    assert report.preview_dir is None  # it stopped before copying anything into a preview
    assert [p.subject for p in report.privacy] == ["figure 'confusion_gmdb'"]
    assert "stopped before building the preview" in report.summary()


def test_guard_rejects_provenance_outside_manifest(demo_root):
    stray = _figure(demo_root / "figures" / "stray.png", "stray", "gmdb")  # the file, but no manifest entry
    assert stray["data_source"] == "gmdb"
    problems = privacy_problems(demo_root)
    assert [(p.subject, p.data_source, p.path) for p in problems] == [("figure 'stray'", "gmdb", "figures/stray.png")]
    assert "embedded provenance" in problems[0].problem


def test_guard_rejects_docs_reference(demo_root):
    manifest = json.loads((demo_root / "figures" / "manifest.json").read_text())["figures"]
    manifest["roc_gmdb"] = {"figure_id": "roc_gmdb", "data_source": "gmdb", "files": [],
                            "source_files": ["runs/qwen_gmdb/roc_curves.png"]}
    _write_manifest(demo_root, manifest)
    assert privacy_problems(demo_root) == []
    (demo_root / "nbs" / "notes.md").write_text("![ROC](../runs/qwen_gmdb/roc_curves.png)\n")
    problems = privacy_problems(demo_root)
    assert [(p.subject, p.path, p.problem) for p in problems] == [
        ("figure 'roc_gmdb'", "nbs/notes.md", "refers to runs/qwen_gmdb/roc_curves.png")]


def _papermill_notebook(path: Path, cohort: str) -> None:
    cells = [{"cell_type": "code", "id": "p", "metadata": {"tags": ["parameters"]}, "execution_count": 1,
              "outputs": [], "source": "cohort = None  # smoke size\n"},
             {"cell_type": "code", "id": "i", "metadata": {"tags": ["injected-parameters"]}, "execution_count": 2,
              "outputs": [], "source": f'# Parameters\ncohort = "{cohort}"\nepochs = 15\n'},
             {"cell_type": "code", "id": "r", "metadata": {}, "execution_count": 3, "source": "print(len(cohort))",
              "outputs": [{"output_type": "stream", "name": "stdout", "text": "1857\n"}]}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_guard_rejects_notebook_run_on_gmdb(demo_root):
    notebook = demo_root / "nbs" / "05_train_vl.ipynb"
    _papermill_notebook(notebook, "data/demo/cohort.csv")
    assert notebook_problems(demo_root) == []

    _papermill_notebook(notebook, "data/processed/gmdb/cohort.csv")
    with pytest.raises(PrivacyError) as raised:
        check_privacy(demo_root)
    problem, = raised.value.problems
    assert problem.subject == "notebook nbs/05_train_vl.ipynb"
    assert "cohort = 'data/processed/gmdb/cohort.csv' (injected-parameters cell)" in problem.problem
    assert "never into nbs/" in problem.fix


def test_guard_command_line(demo_root):
    manifest = json.loads((demo_root / "figures" / "manifest.json").read_text())["figures"]
    manifest["confusion_gmdb"] = _figure(demo_root / "figures" / "confusion_gmdb.png", "confusion_gmdb", "gmdb")
    _write_manifest(demo_root, manifest)
    result = subprocess.run([sys.executable, "-m", "gestaltm3d.docs", "guard"], capture_output=True, text=True,
                            env={**os.environ, "GESTALTM3D_ROOT": str(demo_root)}, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "figure 'confusion_gmdb', data source 'gmdb': figures/confusion_gmdb.png" in result.stderr


def test_repository_passes_guard():
    problems = privacy_problems(ROOT)
    assert problems == [], "\n".join(map(str, problems))


def test_link_check_names_broken_link_and_image(tmp_path):
    site = tmp_path / "site"
    (site / "figures").mkdir(parents=True)
    (site / "figures" / "a.png").write_bytes(b"\x89PNG")
    (site / "other.html").write_text('<h2 id="results">Results</h2>')
    (site / "index.html").write_text(
        '<img src="figures/a.png"><a href="other.html#results">ok</a><a href="https://example.org/">web</a>'
        '<a href="missing_page.html">broken</a><img src="figures/missing.png"><a href="other.html#nothing">anchor</a>')
    broken = check_links(site)
    assert [(b.page, b.kind, b.target) for b in broken] == [
        ("index.html", "link", "missing_page.html"), ("index.html", "image", "figures/missing.png"),
        ("index.html", "link", "other.html#nothing")]
    assert broken[0].reason == "missing_page.html not found"
    assert broken[2].reason == "no element with id 'nothing' in other.html"


def test_preview_link_to_missing_notebook(tmp_path):
    project = tmp_path / "_proc"
    project.mkdir()
    front = {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: Home\noutput-file: index.html\n---\n"}
    text = {"cell_type": "markdown", "metadata": {}, "source": "See [losses](05c_losses.ipynb) and [gone](09_gone.ipynb)."}
    (project / "index.ipynb").write_text(json.dumps({"cells": [front, text], "metadata": {}, "nbformat": 4,
                                                      "nbformat_minor": 5}))
    losses = {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: Losses\noutput-file: losses.html\n---\n"}
    (project / "05c_losses.ipynb").write_text(json.dumps({"cells": [losses], "metadata": {}, "nbformat": 4,
                                                           "nbformat_minor": 5}))
    build_preview(project, tmp_path / "preview")
    assert [str(b) for b in check_links(tmp_path / "preview")] == [
        "index.html: link '09_gone.ipynb': 09_gone.ipynb not found"]


def _browser_project(tmp_path: Path) -> Path:
    "A repository root with the real index notebook, Quarto settings and pyproject.toml, and three demo figures."
    root = tmp_path / "repo"
    (root / "nbs").mkdir(parents=True)
    for name in ("index.ipynb", "_quarto.yml", "styles.css"):
        shutil.copy(ROOT / "nbs" / name, root / "nbs" / name)
    empty = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    for notebook in ROOT.glob("nbs/*.ipynb"):  # the other pages exist but are not built, as with --notebook
        if not (root / "nbs" / notebook.name).exists():
            (root / "nbs" / notebook.name).write_text(empty)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    entries = {name: _figure(root / "figures" / f"{name}.png", name, "demo") for name in ("cohort_stats", "roc_curves")}
    entries["overview"] = _figure(root / "figures" / "overview.svg", "overview", "none")
    _write_manifest(root, entries)
    return root


def test_preview_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser test")
    from PIL import Image, ImageStat
    from playwright.sync_api import sync_playwright

    root = _browser_project(tmp_path)
    report = docs_check(root, notebooks=["index.ipynb"], workers=0)
    assert report.ok, report.summary()
    assert sorted(page.output for page in report.pages) == ["all_figures.html", "index.html"]
    figures_page = report.preview_dir / f"{Path(FIGURES_PAGE).stem}.html"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            # Only the preview's own files may load: the test must not reach the network.
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            page.goto(figures_page.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
            page.screenshot(path=str(tmp_path / "figures.png"))
            assert page.locator("h1.title").inner_text() == "All figures"
            page.goto((report.preview_dir / "index.html").as_uri())
            headings = page.locator("h2").all_inner_texts()
        finally:
            browser.close()

    assert sorted(src for src, _, _ in images) == ["figures/cohort_stats.png", "figures/overview.svg",
                                                    "figures/roc_curves.png"]
    for src, complete, width in images:
        assert complete and width > 0, f"{src} did not load in Chromium"
    assert any(text.startswith("Real data") for text in headings), headings

    with Image.open(tmp_path / "figures.png") as screenshot:
        gray = screenshot.convert("L")
        assert ImageStat.Stat(gray).stddev[0] > 20, "the screenshot of the figures page is blank"
        assert len(gray.getcolors(maxcolors=256 * 256) or range(257)) > 50, "the screenshot has too few shades to show figures"
