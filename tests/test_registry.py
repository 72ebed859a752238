"""Registry and plugins: faked distributions, and a real installed example plugin."""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys

import pytest

from harness.core import registry as reg_mod
from harness.core.errors import MethodError, UnknownNameError
from harness.core.registry import Entry, Registry
from tests.helpers import REPO, assert_one_line_error, run_cli


class _FakeDist:
    def __init__(self, name):
        self.metadata = {"Name": name}


def _fake_eps(*items):
    return [md.EntryPoint(name, value, "harness.methods") for name, value, _ in items], {
        name: dist for name, _, dist in items}


def test_builtins_are_declared_through_the_entry_point_group():
    names = Registry().names()
    assert {"random", "rea", "reinforce", "local-search"} <= set(names)


def test_registry_reads_faked_distributions(monkeypatch):
    eps, dists = _fake_eps(("fake-rs", "methods.search.random_search:RandomSearch", "fakepkg"),
                           ("broken", "no_such_module_xyz:Thing", "brokenpkg"))

    def fake_entry_points(group):
        assert group == "harness.methods"
        out = []
        for ep in eps:
            ep = ep  # EntryPoint is immutable; attach a dist through a wrapper
            out.append(type("EP", (), {"name": ep.name, "value": ep.value,
                                       "dist": _FakeDist(dists[ep.name])})())
        return out

    monkeypatch.setattr(reg_mod.md, "entry_points", fake_entry_points)
    r = Registry()
    assert r.names() == ["broken", "fake-rs"]
    ok, errors = r.load_all()
    assert list(ok) == ["fake-rs"] and r.info("fake-rs")["origin"] == "fakepkg"
    assert len(errors) == 1 and "'broken' from package 'brokenpkg' failed to import" in errors[0]


def test_lazy_import_and_did_you_mean():
    r = Registry([Entry("rea", "methods.search.rea:RegularizedEvolution", "nas-harness"),
                  Entry("never", "no_such_module_xyz:X", "x")])
    assert r.get("rea").kind == "search"  # "never" was not imported by this
    with pytest.raises(UnknownNameError, match="did you mean 'rea'"):
        r.get("raa")
    with pytest.raises(MethodError, match="not a harness.api.Method"):
        Registry([Entry("np", "numpy:ndarray", "numpy")]).get("np")


def test_list_json_names_and_kinds():
    infos = json.loads(run_cli("list", "--json", check=True).stdout)
    kinds = {i["name"]: i["kind"] for i in infos}
    for name in ("random", "rea", "reinforce", "local-search"):
        assert kinds[name] == "search"
    assert all({"name", "kind", "version", "needs_gpu", "origin"} <= set(i) for i in infos)


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory):
    """Install the example and the broken plugin for real (pip --target) into a folder."""
    site = tmp_path_factory.mktemp("site")
    for pkg in ("plugin_example", "plugin_broken", "plugin_misbehaving"):
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
               str(site), str(REPO / "tests" / pkg)]
        proc = subprocess.run(cmd + ["--no-build-isolation"], capture_output=True, text=True)
        if proc.returncode != 0:  # no setuptools in this environment: isolated build
            subprocess.run(cmd, check=True, capture_output=True, text=True)
    return site


def _env(site, home, data_root):
    return {"PYTHONPATH": f"{site}:{REPO}", "NAS_HARNESS_HOME": str(home),
            "NAS_HARNESS_DATA": str(data_root)}


def test_installed_plugin_is_discovered_and_runs(plugin_site, harness_home, data_root,
                                                 tmp_path, nb201):
    env = _env(plugin_site, harness_home, data_root)
    proc = run_cli("list", "--json", env=env, check=True)
    infos = {i["name"]: i for i in json.loads(proc.stdout)}
    assert infos["greedy-mutation"]["origin"] == "harness-example-plugin"
    assert "broken" not in infos
    assert "'broken' from package 'harness-broken-plugin' failed to import" in proc.stderr
    # run --all: the broken plugin is reported by name and skipped, the others still run
    store = tmp_path / "s.sqlite"
    proc = run_cli("run", "--all", "--profile", "smoke", "--kind", "search", "--dataset",
                   "cifar10", "--seeds", "1",
                   "--store", str(store), "--out", str(tmp_path / "lb"), "--quiet", env=env)
    assert proc.returncode == 3, proc.stderr
    assert "'broken' from package 'harness-broken-plugin'" in proc.stderr
    rows = json.loads(run_cli("export", "--store", str(store), "--format", "json",
                              check=True).stdout)
    builtin = {"random", "rea", "reinforce", "local-search", "bananas", "hyperband", "bohb",
               "naswot", "rea-zc", "bananas-zc", "hw-random", "hw-rea",
               "nsga2"}  # every search strategy of smoke
    assert {r["method"] for r in rows} == builtin | {"greedy-mutation"}
    for name, why in (("exits-midrun", "called sys.exit(1)"),
                      ("raises-midrun", "raised IndexError: list index out of range"),
                      ("peeks-midrun", "read cifar10/test_acc while searching")):
        assert f"cell failed: {name}/nb201/cifar10/seed 0: {name} on nb201/cifar10 seed 0 " \
               f"{why}" in proc.stderr, proc.stderr
    # naming the broken plugin directly is bad input: one line, non-zero
    proc = run_cli("run", "broken", "--profile", "smoke", "--store", str(store), env=env)
    assert_one_line_error(proc, "'broken'", "failed to import", "fix or uninstall")


@pytest.mark.parametrize("bench_name", ["nb201", "tnb101-micro", "tnb101-macro", "nb101"])
def test_the_example_plugin_conforms_on_every_shipped_benchmark(
        plugin_site, nb201, monkeypatch, tmp_path, bench_name, harness_home, data_root):
    """The template handed to plugin authors passes check_method everywhere (it used to
    re-query seen archs forever on TransNAS-Bench-101's small neighbourhoods). NB101: a
    table of every cell on at most 5 vertices (the shared data has no full NB101 table)."""
    monkeypatch.syspath_prepend(str(plugin_site))
    monkeypatch.setenv("NAS_HARNESS_HOME", str(harness_home))
    monkeypatch.setenv("NAS_HARNESS_DATA", str(data_root))
    import adapters
    from harness.testing import check_method

    cls = Registry([Entry("g", "harness_example_plugin:GreedyMutation", "x")]).get("g")
    if bench_name == "nb101":
        from tests.test_nb101 import _complete_small_table

        _complete_small_table(tmp_path / "nb101.h5")
        bench = adapters.open_file("nb101", tmp_path / "nb101.h5")
    else:
        bench = nb201 if bench_name == "nb201" else adapters.load_benchmark(bench_name)
    dataset = {"nb201": "cifar10", "nb101": "cifar10"}.get(bench_name, "jigsaw")
    assert len(check_method(cls, bench, dataset, minutes=2)) == 7


def test_a_plugin_that_exits_at_import_fails_alone(tmp_path, monkeypatch):
    (tmp_path / "exiting_plugin.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry([Entry("exits", "exiting_plugin:X", "exiting-plugin"),
                    Entry("random", "methods.search.random_search:RandomSearch", "nas-harness")])
    ok, errors = reg.load_all()
    assert list(ok) == ["random"]
    assert errors == ["method 'exits' from package 'exiting-plugin' failed to import "
                      "(SystemExit: 3); fix or uninstall that package"]
