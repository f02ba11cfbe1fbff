"""The executor seam: where the work of a backtest, sweep or grid runs.

Every scale-out entry point takes ``scheduler``:

* ``None``: in this process, as without Dask (the default);
* ``"local"`` or ``"local:N"``: a :class:`dask.distributed.LocalCluster` of N worker processes
  (default: one per core) with one thread each, started for the run and closed after it;
* an address such as ``"tcp://host:8786"``: an existing Dask cluster;
* a :class:`dask.distributed.Client`: used as is and left open.

Workers run one thread each: numba's default threading layer must not be entered from several
threads of one process at a time, so a worker runs one task at a time and the kernel's own
``prange`` loops use the worker's share of the cores (``NUMBA_NUM_THREADS``, set for local
clusters). A process-wide lock keeps kernels sequential even on a cluster started with more
threads per worker.

Dask is an optional dependency (``pip install 'straddles[dask]'``); this module imports it only
when a scheduler is given.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from ..errors import StraddlesError

#: the extra that installs Dask distributed
DASK_EXTRA = "pip install 'straddles[dask]'"
#: times Dask re-runs a task that raised (a lost worker is retried by the scheduler on its own,
#: up to ``distributed.scheduler.allowed-failures`` times)
TASK_RETRIES = 1

#: one kernel at a time per worker process (see the module docstring)
KERNEL_LOCK = threading.Lock()


def require_distributed():
    """The ``distributed`` module, or a StraddlesError saying which extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise StraddlesError(f"running on a Dask scheduler needs Dask distributed: {DASK_EXTRA} "
                             f"({exc})") from None
    return distributed


@contextmanager
def dask_client(scheduler) -> Iterator:
    """A connected :class:`distributed.Client` for ``scheduler`` (not None), closed afterwards
    unless the caller passed a Client of its own."""
    distributed = require_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if not isinstance(scheduler, str):
        raise StraddlesError(f"scheduler must be None, 'local[:N]', an address or a dask Client, "
                             f"got {type(scheduler).__name__}")
    if scheduler == "local" or scheduler.startswith("local:"):
        n_workers = _local_workers(scheduler)
        cluster = local_cluster(n_workers)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise StraddlesError(f"cannot connect to the Dask scheduler at {scheduler!r}: {exc}") from None
    with client:
        yield client


def local_cluster(n_workers: int):
    """A LocalCluster of N single-threaded worker processes whose kernels share the cores:
    NUMBA_NUM_THREADS is set before the processes start (numba reads it on import, and a worker
    may import it while loading the caller's main module, before Dask's ``env`` would apply).

    The nannies run in this process and set those variables in its own ``os.environ`` before they
    spawn; ours is restored afterwards, since numba here re-reads NUMBA_NUM_THREADS when it
    compiles and refuses a value that differs from its running thread pool."""
    import dask

    distributed = require_distributed()
    threads = str(max(1, (os.cpu_count() or 1) // n_workers))
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}), NUMBA_NUM_THREADS=threads)
    with _environ_kept(), dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        dashboard_address=":0")


@contextmanager
def _environ_kept(names=("NUMBA_NUM_THREADS", "PYTHONHASHSEED")):
    """Restore these environment variables of this process on exit: a local cluster's nannies
    (threads of this process) set them before spawning a worker, also when they restart one."""
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _local_workers(scheduler: str) -> int:
    if scheduler == "local":
        return os.cpu_count() or 1
    text = scheduler.removeprefix("local:")
    if not text.isdigit() or int(text) < 1:
        raise StraddlesError(f"scheduler {scheduler!r}: expected 'local:N' with N a positive number of workers")
    return int(text)


def run_tasks(client, function: Callable, items: Sequence, progress: Callable[[int, int], None] | None = None,
              **shared) -> list:
    """Run ``function(item, **shared)`` for every item on the cluster; results in item order.

    ``shared`` values are sent to the cluster once (scattered), not once per task. ``progress(done,
    total)`` is called as tasks complete. The first failure cancels the remaining tasks and is
    raised here: a task's StraddlesError keeps its message, a task whose workers kept dying is
    reported as such.
    """
    distributed = require_distributed()
    # hash=False: a key of its own per run. Equal values would otherwise share a key with the
    # previous run's scatter, which the scheduler may still be releasing ("lost dependencies").
    shared = {name: client.scatter(value, broadcast=True, hash=False) for name, value in shared.items()}
    futures = client.map(_user_errors(function), items, pure=False, retries=TASK_RETRIES, **shared)
    position = {future.key: index for index, future in enumerate(futures)}
    results = [None] * len(futures)
    done = 0
    if progress is not None:
        progress(0, len(futures))
    with _environ_kept():  # a worker restarted meanwhile re-sets them here (see local_cluster)
        try:
            for future in distributed.as_completed(futures):
                results[position[future.key]] = future.result()
                done += 1
                if progress is not None:
                    progress(done, len(futures))
        except distributed.KilledWorker as exc:
            raise StraddlesError(f"a task failed repeatedly because its worker died (out of memory?): {exc}") from None
        finally:
            client.cancel(futures)
    return results


def _user_errors(function: Callable) -> Callable:
    """``function`` with its StraddlesErrors re-raised as plain StraddlesError (message kept):
    subclasses with their own constructor arguments (AmtError) do not survive pickling back to
    the client."""

    @functools.wraps(function)
    def task(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StraddlesError as exc:
            raise StraddlesError(str(exc)) from None

    return task


def worker_prices(prices) -> str:
    """The price source as workers will open it: an absolute path (their working folder may
    differ from ours). In-memory prices are refused rather than pickled into every task."""
    if isinstance(prices, (str, os.PathLike)):
        text = os.fspath(prices)
        return text if "::" in text or text.startswith("duckdb:") else os.path.abspath(text)
    raise StraddlesError(f"with a scheduler, prices must be a path the workers can read (Parquet file or folder, "
                         f"CSV, DuckDB), got a {type(prices).__name__}; write it with straddles.write_prices first")


def warm_price_caches(client, prices: str) -> None:
    """Build the memory-mapped price cache (:func:`straddles.load_prices`) once on every worker
    host, a no-op where it exists: tasks then read their series out of it instead of each
    re-reading the source."""
    hosts = {}
    for address, info in client.scheduler_info(n_workers=-1)["workers"].items():
        hosts.setdefault(info["host"], address)
    client.gather([client.submit(_price_rows, prices, workers=[address], pure=False) for address in hosts.values()])


def _price_rows(prices: str) -> int:
    from ..engine.prices import load_prices

    return load_prices(prices).n_rows
