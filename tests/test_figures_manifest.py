"""Tests of the committed figures: each manifest entry's files exist with their hash, and the paper's figures are listed.

`bash scripts/reproduce.sh` regenerates figures/ and figures/manifest.json from the demo cohort.
Both are committed, so the docs site and readers of the repository see the same files.
"""
import json
from pathlib import Path

import pytest

from gestaltm3d.core import sha256_file
from gestaltm3d.reproduce import DIAGRAM_IDS, SHAREABLE_SOURCES, read_provenance

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "figures" / "manifest.json"
PAPER_FIGURES = ("overview_pipeline", "example_cases", "dataset_stats", "preprocessing_pipeline", "stylegan3_overview",
                 "kept_vs_heldout", "stylegan3_privacy", "mm_llm_architecture", "method_block_diagram")
PAPER_TABLES = ("main_results", "ablations")


@pytest.fixture(scope="module")
def manifest() -> dict:
    assert MANIFEST.is_file(), "figures/manifest.json is missing; run `bash scripts/reproduce.sh` and commit figures/"
    return json.loads(MANIFEST.read_text())["figures"]


def test_paper_figures_and_tables_are_listed(manifest):
    missing = [figure_id for figure_id in (*PAPER_FIGURES, *PAPER_TABLES) if figure_id not in manifest]
    assert missing == [], f"figure ids missing from figures/manifest.json: {missing}"
    assert set(DIAGRAM_IDS) <= set(PAPER_FIGURES)
    for table in PAPER_TABLES:
        suffixes = sorted(Path(f["path"]).suffix for f in manifest[table]["files"])
        assert suffixes == [".csv", ".md", ".tex"], (table, suffixes)
    grids = [figure_id for figure_id in manifest if figure_id.startswith("synthetic_grid_")]
    assert len(grids) >= 10, f"expected a synthetic grid per syndrome, found {grids}"


def test_every_listed_file_exists_with_its_hash(manifest):
    for figure_id, entry in manifest.items():
        if entry["data_source"] not in SHAREABLE_SOURCES:
            assert entry["files"] == [], f"{figure_id} comes from {entry['data_source']} data but has files in figures/"
            continue
        assert entry["files"], f"{figure_id} lists no files"
        for listed in entry["files"]:
            path = ROOT / listed["path"]
            assert path.is_file(), f"{figure_id}: {listed['path']} is listed in the manifest but missing"
            assert sha256_file(path) == listed["sha256"], f"{figure_id}: {listed['path']} changed after the run"


def test_embedded_provenance_matches_the_manifest(manifest):
    checked = 0
    for figure_id, entry in manifest.items():
        for listed in entry["files"]:
            if not listed["provenance_embedded"]:
                continue
            record = read_provenance(ROOT / listed["path"])
            assert record is not None, f"{listed['path']} has lost its provenance"
            assert (record["figure_id"], record["notebook"], record["data_source"]) == \
                (figure_id, entry["notebook"], entry["data_source"])
            checked += 1
    assert checked >= len(PAPER_FIGURES)
