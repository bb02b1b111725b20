"""Shared fixtures: where the real data and media live, skipping (not failing) when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_fer2013() -> Path:
    """The shared FER2013 file, or a skip when this machine does not have it."""
    path = SHARED / "data" / "fer2013.csv.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not on this machine")
    return path
