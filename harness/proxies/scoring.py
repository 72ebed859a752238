"""The harness side of zero-cost proxies: deterministic networks and minibatches, timing,
the per-architecture score cache, one proxy at a time (the engine that shares passes
between proxies is :mod:`harness.proxies.engine`; correlations are :mod:`harness.core.correlation`).

Streams (all from the profile's experiment seed, never global RNG state):
* arch sample of a (benchmark, dataset, seed): stratified over the reported accuracy;
* minibatch of a (benchmark, dataset, seed): identical for every proxy and arch;
* network initialisation of a (benchmark, dataset, seed, arch): identical for every proxy.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import ConfigError, MethodError
from harness.core.seeds import cell_seed_sequence, generator
from harness.core.timelimit import DEFAULT_CELL_MINUTES, method_code

SCORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS proxy_scores (
  benchmark TEXT, data_sha256 TEXT, dataset TEXT, arch INTEGER, proxy TEXT,
  proxy_version TEXT, seed INTEGER, batch_size INTEGER, device TEXT, images TEXT,
  score REAL, seconds REAL,
  PRIMARY KEY (benchmark, data_sha256, dataset, arch, proxy, proxy_version, seed,
               batch_size, device, images)
);
"""


@dataclass
class ProxyContext:
    """What a proxy's ``_score`` receives."""

    model: Any  # torch.nn.Module, freshly initialised, on ``device``
    inputs: Any  # float tensor (B, 3, H, W)
    targets: Any  # int64 tensor (B,)
    num_classes: int
    encoding: np.ndarray
    params: float
    flops: float
    generator: Any  # torch.Generator for any randomness the proxy needs
    device: str


class ScoreCache:
    """Per-arch proxy scores in SQLite (WAL), so tables never recompute and sweeps resume."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.parent.exists():
            raise ConfigError(f"store {path}: folder {path.parent} does not exist")
        self.path = path
        self.con = sqlite3.connect(str(path), timeout=60, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(SCORE_SCHEMA)

    def get(self, key: dict) -> dict[int, tuple[float, float]]:
        """{arch: (score or NaN, seconds)} of every cached arch under ``key``."""
        cols = list(key)
        rows = self.con.execute(
            "SELECT arch, score, seconds FROM proxy_scores WHERE "
            + " AND ".join(f"{c}=?" for c in cols), [key[c] for c in cols]).fetchall()
        return {int(a): (np.nan if s is None else float(s), float(t)) for a, s, t in rows}

    def put(self, key: dict, arch: int, score: float, seconds: float) -> None:
        vals = dict(key, arch=int(arch), score=None if math.isnan(score) else score,
                    seconds=seconds)  # -inf (disconnected, ranked last) is kept
        self.con.execute(f"INSERT OR IGNORE INTO proxy_scores ({', '.join(vals)}) VALUES "
                         f"({', '.join('?' * len(vals))})", list(vals.values()))

    def close(self) -> None:
        self.con.close()


def stratified_archs(bench, dataset: str, n: int, seed_seq: np.random.SeedSequence
                     ) -> np.ndarray:
    """n archs: one per accuracy quantile stratum (of the reported metric), or all archs."""
    proto = bench.protocol(dataset)
    acc = bench.query(np.arange(bench.num_archs), proto["report_metric"],
                      proto["report_dataset"])
    valid = np.flatnonzero(np.isfinite(acc))
    if n >= len(valid):
        return valid
    order = valid[np.argsort(acc[valid], kind="stable")]
    rng = generator(seed_seq)
    strata = np.array_split(order, n)
    return np.sort(np.array([s[rng.integers(len(s))] for s in strata], dtype=np.int64))


def init_network(model, gen) -> None:
    """PyTorch's default initialisation, drawn from ``gen`` instead of the global RNG."""
    import torch
    from torch import nn

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
                if m.bias is not None:
                    fan_in = m.weight[0].numel()
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    nn.init.uniform_(m.bias, -bound, bound, generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                if m.affine:
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                if m.track_running_stats:
                    m.running_mean.zero_()
                    m.running_var.fill_(1)
                    m.num_batches_tracked.zero_()


def build_network(bench, arch: int, dataset: str, seq: np.random.SeedSequence, device: str):
    """The arch's network, built on the meta device (no global RNG draw), then initialised
    from ``seq`` on ``device``."""
    import torch

    from harness.core.seeds import torch_generator

    with torch.device("meta"):
        model = bench.build_model([int(arch)], dataset)
    model = model.to_empty(device=device)
    init_network(model, torch_generator(seq, device="cpu"))
    return model.to(device).train()


@dataclass
class ScoreSweep:
    """Scores of one proxy on a set of archs, with timing and the NaN count."""

    archs: np.ndarray
    scores: np.ndarray
    seconds: np.ndarray


def unavailable(proxy_cls, bench, dataset: str) -> str | None:
    """Why a proxy cannot run on ``bench``/``dataset`` here (None: it can)."""
    if proxy_cls.needs_model and bench._model_builder is None:
        return f"{bench.name} defines no network"
    if proxy_cls.needs_cost and proxy_cls.needs_cost not in bench.h5.costs(dataset):
        return f"the {bench.name} table has no '{proxy_cls.needs_cost}' cost"
    if proxy_cls.needs_images:
        from adapters.images import images_for
        from harness.core.errors import DataMissingError

        try:
            images_for(dataset, benchmark=bench.name)
        except DataMissingError as exc:
            return str(exc)
    return None


#: parameter counts of networks whose table has no params column, per process
_COUNTED_PARAMS: dict[tuple, float] = {}


class ArchScorer:
    """Scores archs with one proxy on one (benchmark, dataset, seed), one arch at a time,
    through the cache: the minibatch is drawn once, so every arch sees the same images."""

    def __init__(self, proxy_cls, name: str, bench, dataset: str, *, experiment_seed: int,
                 seed: int, batch_size: int, device: str, cache: ScoreCache | None = None):
        import torch

        from adapters.images import images_for

        self.cls, self.bench, self.dataset = proxy_cls, bench, dataset
        self.experiment_seed, self.seed, self.device = experiment_seed, seed, device
        images = images_for(dataset, benchmark=bench.name) if proxy_cls.needs_images \
            else None
        self.key = {"benchmark": bench.name, "data_sha256": bench.content_sha256,
                    "dataset": dataset, "proxy": name, "proxy_version": proxy_cls.version,
                    "seed": seed, "batch_size": batch_size, "device": device,
                    "images": images.name if images else "none"}
        self.cache = cache
        self.have = cache.get(self.key) if cache is not None else {}
        self.batch = None
        if images is not None:
            x, y = images.batch(generator(cell_seed_sequence(
                experiment_seed, "minibatch", bench.name, dataset, seed)), batch_size)
            self.batch = (torch.from_numpy(x).to(device), torch.from_numpy(y).to(device))
        elif proxy_cls.needs_model:  # data-free proxies still need the input shape
            self.batch = (torch.zeros((batch_size, 3, *bench.input_size(dataset)),
                                      device=device), None)
        self.num_classes = bench.num_classes(dataset)
        self.cost_ds = dataset if dataset in bench.datasets else bench.datasets[0]
        self.proxy = proxy_cls()
        self._connected: dict[int, bool] = {}
        #: wall-clock limit of one proxy call on one arch, in minutes (None: none)
        self.minutes: float | None = DEFAULT_CELL_MINUTES
        #: why this proxy was given up on (it ran past its time limit), or None
        self.failed: str | None = None

    def _cost(self, arch: int, name: str) -> float:
        if name not in self.bench.h5.costs(self.cost_ds):
            return float("nan")
        return float(self.bench.cost([arch], name, self.cost_ds)[0])

    def _params(self, arch: int) -> float:
        """From the table, else counted on a meta-device network (TNB101 shared tables),
        once per (benchmark data, dataset, arch): every proxy of an arch asks for it."""
        p = self._cost(arch, "params")
        if math.isfinite(p):
            return p
        key = (self.bench.content_sha256, self.dataset, int(arch))
        if key not in _COUNTED_PARAMS:
            import torch

            with torch.device("meta"):
                model = self.bench.build_model([arch], self.dataset)
            _COUNTED_PARAMS[key] = float(sum(t.numel() for t in model.parameters()))
        return _COUNTED_PARAMS[key]

    def cached(self, arch: int) -> bool:
        return int(arch) in self.have

    def connected(self, arch: int) -> bool:
        """Whether ``arch``'s output depends on its input (memoised per arch)."""
        a = int(arch)
        if a not in self._connected:
            self._connected[a] = bool(self.bench.output_depends_on_input([a])[0])
        return self._connected[a]

    def init_stream(self, arch: int) -> np.random.SeedSequence:
        """The arch's initialisation stream (identical for every proxy of the seed)."""
        return cell_seed_sequence(self.experiment_seed, f"init:{int(arch)}", self.bench.name,
                                  self.dataset, self.seed)

    def context(self, arch: int, model) -> ProxyContext:
        """What ``_score`` receives for ``arch`` (a fresh generator from the arch's stream)."""
        from harness.core.seeds import torch_generator

        a = int(arch)
        return ProxyContext(
            model=model, inputs=self.batch[0] if self.batch else None,
            targets=self.batch[1] if self.batch else None, num_classes=self.num_classes,
            encoding=self.bench.encode([a])[0], params=self._params(a),
            flops=self._cost(a, "flops"),
            generator=torch_generator(self.init_stream(a).spawn(1)[0], device="cpu"),
            device=self.device)

    def record(self, arch: int, score: float, seconds: float) -> tuple[float, float]:
        """Keep (and cache) a computed score; NaN/inf become NaN (a numerical failure),
        except -inf on an arch the proxy is undefined on (ranked last)."""
        a = int(arch)
        worst = score == -math.inf and self.cls.undefined_on_disconnected \
            and not self.connected(a)
        out = (score if math.isfinite(score) or worst else np.nan, seconds)
        self.have[a] = out
        if self.cache is not None:
            self.cache.put(self.key, a, out[0], out[1])
        return out

    def score(self, arch: int) -> tuple[float, float]:
        """(score or NaN, seconds) of ``arch``, computed alone (its own network and passes)
        and cached on first request; -inf for archs the proxy is undefined on."""
        a = int(arch)
        if self.cls.undefined_on_disconnected and not self.connected(a):
            if self.have.get(a, (0.0,))[0] != -math.inf:  # recorded once (a cache written by
                self.record(a, -math.inf, 0.0)            # an older harness may hold NaN)
            return self.have[a]
        if a in self.have:
            return self.have[a]
        t0 = time.perf_counter()
        model = build_network(self.bench, a, self.dataset, self.init_stream(a), self.device) \
            if self.cls.needs_model else None
        with self.limit(a):
            s = safely(lambda: self.proxy._score(self.context(a, model)))
        sync(self.device)
        return self.record(a, s, time.perf_counter() - t0)

    def limit(self, arch: int):
        """One call of this proxy's code on ``arch``: under its time limit, and anything it
        raises but a numerical failure (recorded as NaN by :func:`safely`) -- running past
        the limit, a bug, ``sys.exit`` -- raises :class:`~harness.core.errors.MethodError`
        and gives the proxy up (:attr:`failed` says why); the other proxies go on."""
        return _limit(self, int(arch))


@contextlib.contextmanager
def _limit(scorer: ArchScorer, arch: int):
    where = f"proxy {scorer.key['proxy']} on {scorer.bench.name}/{scorer.dataset} arch {arch}"
    try:
        with method_code(scorer.minutes, where, passthrough=NUMERICAL):
            yield
    except MethodError as exc:
        scorer.failed = str(exc)
        raise


def sync(device: str) -> None:
    """Wait for queued GPU work, so timings are honest."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def safely(fn) -> float:
    """``fn()`` as a float; numerical failures (and NaN/inf warnings) become NaN, never an
    exception. Out-of-memory errors propagate (a configuration problem, not a score)."""
    try:
        with warnings.catch_warnings():  # NaN/inf outcomes are recorded and counted
            warnings.simplefilter("ignore")
            return float(fn())
    except NUMERICAL as exc:
        if "out of memory" in str(exc).lower():
            raise
        return float("nan")


#: exceptions that mean "this arch's score failed numerically", not a harness bug
NUMERICAL = (FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError, RuntimeError)


def score_archs(proxy_cls, name: str, bench, dataset: str, archs: np.ndarray, *,
                experiment_seed: int, seed: int, batch_size: int, device: str,
                cache: ScoreCache | None = None, progress=None) -> ScoreSweep:
    """Score ``archs`` with a proxy (cached per arch); the harness owns init and data."""
    scorer = ArchScorer(proxy_cls, name, bench, dataset, experiment_seed=experiment_seed,
                        seed=seed, batch_size=batch_size, device=device, cache=cache)
    scores = np.full(len(archs), np.nan)
    secs = np.zeros(len(archs))
    for i, a in enumerate(archs):
        scores[i], secs[i] = scorer.score(int(a))
        if progress is not None:
            progress(1)
    return ScoreSweep(np.asarray(archs), scores, secs)


# ---- published scores (NAS-Bench-Suite-Zero, NASWOT authors) --------------------------------
#: published-score files under the data root, per NB201 dataset
PUBLISHED = {
    "cifar10": ("zc-suite-zero/nb201_zc_proxies.csv", "zc-suite-zero/nb201_valid_nets.csv"),
    "ImageNet16-120": ("zc-suite-zero/nb201_ImageNet16-120_zc_proxies.csv",
                       "zc-suite-zero/nb201_ImageNet16-120_valid_nets.csv"),
}
NASLIB_JSON = "zc-naslib/zc_nasbench201@1bdbd960.json"
#: NASLib's published TransNAS-Bench-101 scores (~700 archs per task and space)
NASLIB_TNB_JSON = "zc-naslib/zc_transbench101_{space}@e5a821c2.json"
#: our proxy name -> the column name in NAS-Bench-Suite-Zero
PUBLISHED_NAME = {"params": "params", "flops": "flops", "grad_norm": "grad_norm",
                  "snip": "snip", "grasp": "grasp", "fisher": "fisher", "synflow": "synflow",
                  "jacov": "jacov", "nwot": "nwot", "zen": "zen", "l2_norm": "l2_norm"}


def published_scores(bench, dataset: str, root: Path) -> dict[str, dict[int, float]] | None:
    """{proxy: {arch index: score}} from NAS-Bench-Suite-Zero for ``dataset`` (9,445 NB201
    nets for cifar10 and ImageNet16-120; 724 for cifar100 from NASLib's JSON), or None."""
    import csv
    import json

    out: dict[str, dict[int, float]] = {}
    if bench.name.startswith("tnb101-"):
        from adapters.tnb101 import arch_string

        space_name = bench.name.split("-", 1)[1]
        path = root / NASLIB_TNB_JSON.format(space=space_name)
        if not path.exists():
            return None
        data = json.loads(path.read_text()).get(dataset) or {}
        for net, rec in data.items():
            code = arch_string(space_name, [int(x) for x in net.strip("()").split(",")])
            a = int(bench.index([code])[0])
            for ours, col in PUBLISHED_NAME.items():
                if isinstance(rec.get(col), dict) and rec[col].get("score") is not None:
                    out.setdefault(ours, {})[a] = float(rec[col]["score"])
        return out or None
    if bench.name != "nb201":
        return None
    from adapters.nb201 import naslib_net_to_ops

    space = bench.space
    if dataset in PUBLISHED and (root / PUBLISHED[dataset][0]).exists():
        with open(root / PUBLISHED[dataset][0], newline="") as fh:
            for row in csv.DictReader(fh):
                a = space.index_of_ops(naslib_net_to_ops(row["net"]))
                for ours, col in PUBLISHED_NAME.items():
                    if col in row and row[col] not in ("", "nan"):
                        out.setdefault(ours, {})[a] = float(row[col])
        return out
    if (root / NASLIB_JSON).exists():
        data = json.loads((root / NASLIB_JSON).read_text()).get(dataset)
        if not data:
            return None
        for net, rec in data.items():
            a = space.index_of_ops(naslib_net_to_ops(net))
            for ours, col in PUBLISHED_NAME.items():
                if isinstance(rec.get(col), dict) and rec[col].get("score") is not None:
                    out.setdefault(ours, {})[a] = float(rec[col]["score"])
        return out
    return None
