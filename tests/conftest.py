"""Shared fixtures. Real-data tests use the raw-data root (../shared/data by default).

In CI (``NAS_HARNESS_REQUIRE_DATA=1``, set by .ci/run) a missing data root is a failure,
not a skip, so data-consistency tests always run there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    env = os.environ.get("NAS_HARNESS_DATA")
    cand = Path(env) if env else REPO.parent / "shared" / "data"
    return cand if (cand / "README.md").exists() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:
        if os.environ.get("NAS_HARNESS_REQUIRE_DATA"):
            pytest.fail("raw-data root missing: set NAS_HARNESS_DATA to ../shared/data")
        pytest.skip("raw-data root (../shared/data) not present")
    return root


@pytest.fixture(scope="session")
def harness_home(tmp_path_factory, data_root) -> Path:
    """A cache home shared by the session, with NB201 converted once from the real data."""
    home = Path(os.environ.get("NAS_HARNESS_TEST_HOME") or tmp_path_factory.mktemp("home"))
    return home


@pytest.fixture(scope="session")
def nb201(harness_home, data_root):
    """The real NB201 benchmark converted from the data root (once per session)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("NAS_HARNESS_HOME", str(harness_home))
    mp.setenv("NAS_HARNESS_DATA", str(data_root))
    import adapters

    bench = adapters.load_benchmark("nb201")
    yield bench
    bench.close()
    mp.undo()


@pytest.fixture(scope="session")
def smoke_site(tmp_path_factory, harness_home, data_root, nb201):
    """One smoke run's store and leaderboard (``run --all --profile smoke``), shared by the
    session: the leaderboard tests read it and the reproduction check (test_verify.py)
    compares a copy of its store, so the suite runs the smoke profile once, not twice."""
    from tests.helpers import run_cli

    tmp = tmp_path_factory.mktemp("smoke-site")
    env = {"NAS_HARNESS_HOME": str(harness_home), "NAS_HARNESS_DATA": str(data_root)}
    store, out = tmp / "s.sqlite", tmp / "lb"
    proc = run_cli("run", "--all", "--profile", "smoke", "--store", str(store), "--out",
                   str(out), "--quiet", env=env, check=True)
    (tmp / "run.out").write_text(proc.stdout)
    (tmp / "run.err").write_text(proc.stderr)
    return env, store, out


@pytest.fixture()
def env_home(monkeypatch, tmp_path):
    """An empty cache home for one test."""
    monkeypatch.setenv("NAS_HARNESS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"



@pytest.fixture(autouse=True)
def _corpus_watchdog(request):
    """A bad input must never hang: each ``corpus`` case fails after CORPUS_CASE_SECONDS."""
    if request.node.get_closest_marker("corpus") is None:
        yield
        return
    from tests.helpers import CORPUS_CASE_SECONDS, watchdog

    with watchdog(CORPUS_CASE_SECONDS, request.node.nodeid):
        yield
