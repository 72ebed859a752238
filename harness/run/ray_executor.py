"""Ray executor (``run --executor ray [--address ADDR]``): every unit becomes a Ray task
with a resource request built from the unit's :class:`~harness.core.cell.Resources`
(``num_cpus`` = its threads, ``num_gpus`` for one-shot cells and proxy chunks on CUDA,
``memory``). Results stream back to the driver as tasks finish, and the driver alone writes
the store. A task whose worker process dies is retried by Ray (``retries`` times); a retried
one-shot cell resumes from its last epoch checkpoint, and a row reaches the store exactly
once (the engine inserts by cell key).

Without ``--address`` (and no ``RAY_ADDRESS``) a local Ray instance is started on
127.0.0.1 and stopped at the end. Workers find the data root and cache home through the
environment the driver passes on (``NAS_HARNESS_DATA``, ``NAS_HARNESS_HOME``); on a
multi-node cluster both must be valid paths on every node (see the README's "Running on a
cluster"), as must the store's checkpoint folder for one-shot cells to resume on another
node.
"""

from __future__ import annotations

import os
from typing import Any

from harness.core.cell import RunEnv
from harness.core.errors import ConfigError
from harness.run.executors import StreamingExecutor, call_unit, threads_for

INSTALL_HINT = ("--executor ray needs Ray, which is not installed; install it with: "
                "pip install 'nas-harness[ray]'")
#: tasks are named ``harness_<unit class>`` (``ray::harness_OneShotCell`` in ``ps`` and in
#: Ray's state API while a worker runs one)
TASK_PREFIX = "harness_"
#: default retries of a task whose worker died
DEFAULT_RETRIES = 3


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def _task(unit: Any, env: RunEnv, threads: int) -> tuple[str, Any]:
    """Runs in a Ray worker process."""
    from harness.core import config

    root = os.environ.get("NAS_HARNESS_DATA")
    if root:
        config.set_data_root(root)
    return call_unit(unit, env, threads)


def task_options(unit: Any, slots: int, retries: int) -> dict[str, Any]:
    """The Ray task options of ``unit``: its name, CPUs (= its torch threads; a fair share
    of the cluster's CPUs for GPU units), GPUs, memory and retries."""
    res = unit.resources()
    opts: dict[str, Any] = {"name": TASK_PREFIX + type(unit).__name__,
                            "num_cpus": threads_for(res, slots, slots),
                            "max_retries": retries, "retry_exceptions": False}
    if res.gpus:
        opts["num_gpus"] = res.gpus
    if res.memory_mb:
        opts["memory"] = int(res.memory_mb) * 2**20
    return opts


class RayExecutor(StreamingExecutor):
    name = "ray"

    def __init__(self, address: str | None = None, jobs: int | None = None,
                 retries: int | None = None):
        ray = _import_ray()
        self._ray = ray
        self.retries = DEFAULT_RETRIES if retries is None else int(retries)
        self._owns = False
        if not ray.is_initialized():
            env_vars = {k: v for k, v in os.environ.items()
                        if k.startswith(("NAS_HARNESS_", "OMP_WAIT_POLICY"))}
            from harness.core import config

            root = config.data_root()
            if root is not None:
                env_vars["NAS_HARNESS_DATA"] = str(root)
            import logging

            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": logging.ERROR,
                                      "runtime_env": {"env_vars": env_vars}}
            if not (address or os.environ.get("RAY_ADDRESS")):
                kwargs.update(num_cpus=jobs, _node_ip_address="127.0.0.1")
            try:
                ray.init(address=address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                where = address or "a local instance"
                raise ConfigError(f"cannot start or reach Ray at {where}: {first}; start a "
                                  "head with 'ray start --head' and pass --address "
                                  "HOST:6379") from None
            self._owns = True
        res = ray.cluster_resources()
        self.slots = max(1, int(res.get("CPU", 1)))
        #: GPUs in the cluster (a GPU cell waits for one; none: --device cuda is refused)
        self.gpus = float(res.get("GPU", 0))
        self._remote = ray.remote(_task)

    def _submit(self, u: Any, env: RunEnv):
        opts = task_options(u, self.slots, self.retries)
        return self._remote.options(**opts).remote(u, env, opts["num_cpus"])

    def _wait(self, inflight):
        ray = self._ray
        ready, _ = ray.wait(list(inflight), num_returns=1)
        out = []
        for ref in ready:
            try:
                tagged = ray.get(ref)
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                    ray.exceptions.OutOfMemoryError, ray.exceptions.TaskCancelledError) as exc:
                tagged = ("failed", f"{inflight[ref].label()}: its Ray worker was lost "
                          f"{self.retries + 1} times ({type(exc).__name__}); rerun to retry it")
            except ray.exceptions.RayTaskError as exc:
                raise exc.as_instanceof_cause() from None  # a harness bug
            out.append((ref, tagged))
        return out

    def _cancel(self, handle) -> None:
        self._ray.cancel(handle, force=True)

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False
