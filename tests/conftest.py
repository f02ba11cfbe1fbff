"""Shared fixtures: the bundled example AMT and the real AMT from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

import straddles

# No timing in asserts: hypothesis' per-example deadline would fail whenever a numba function
# compiles on first use (a clean clone has no JIT cache).
settings.register_profile("straddles", deadline=None)
settings.load_profile("straddles")

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def example_amt_path() -> Path:
    return straddles.example_amt_path()


@pytest.fixture(scope="session")
def example_amt(example_amt_path):
    return straddles.load_amt(example_amt_path)


@pytest.fixture(scope="session")
def real_amt_path() -> Path:
    path = REAL_DATA / "amt.yml"
    if not path.is_file():
        pytest.skip(f"real AMT not found at {path} (the repository expects ../shared/data beside it)")
    return path


@pytest.fixture(scope="session")
def real_amt(real_amt_path):
    return straddles.load_amt(real_amt_path)


def write_amt(directory: Path, text: str, overrides: str | None = None) -> Path:
    """Write a small AMT (and optionally its overrides.csv) into ``directory``; return the AMT path."""
    path = directory / "amt.yml"
    path.write_text(text)
    if overrides is not None:
        (directory / "overrides.csv").write_text(overrides)
    return path


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """Caches (parsed AMTs, price stores) go to a temporary folder, never to ~/.cache."""
    import os
    os.environ["STRADDLES_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def dask_client(_private_cache_dir):
    """A Client of a LocalCluster of two single-threaded worker processes (issue 12's test setup);
    the workers inherit this session's cache folder."""
    distributed = pytest.importorskip("distributed")
    from straddles.scale.executor import local_cluster

    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        yield client
