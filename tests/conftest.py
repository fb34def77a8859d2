"""Shared fixtures for the integration tests."""
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    "The public test data folder; tests that use it are skipped, with the reason, when it is absent."
    from gestaltm3d.core import shared_data_dir

    folder = shared_data_dir()
    if folder is None:
        pytest.skip("public test data not found: set GESTALTM3D_SHARED_DATA or place it at ../shared/data")
    return folder
