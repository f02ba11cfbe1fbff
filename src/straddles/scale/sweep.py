"""Distributed sweeps: batches of strategies as Dask tasks against one results folder.

A task runs :func:`~straddles.strategies.sweep.run_batch` on a batch of at least
:data:`TASK_STRATEGIES` names. Loading the cohort cube and building a
:class:`~straddles.strategies.context.StrategyContext` (P, V, the lock) costs far more than one
strategy, so each worker process keeps the context of the folder it last swept, keyed by the
folder's absolute path and its manifest run id: a rewritten folder is loaded afresh, and the
context's cache of shared signals carries across the batches a process runs. The client
concatenates the batches in grid order and sorts them as the in-process sweep does, so the tables
are equal but for the ``ms`` timing column.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Callable

import pyarrow as pa

from ..engine.outputs import MANIFEST_FILE
from ..errors import StraddlesError
from .executor import KERNEL_LOCK, run_tasks

#: fewest strategies per task: a strategy takes milliseconds, a task's overhead about as long
TASK_STRATEGIES = 50
#: tasks per worker when the grid is large (batches grow beyond TASK_STRATEGIES to keep to this)
TASKS_PER_WORKER = 4

_contexts: dict[tuple[str, str], object] = {}
_contexts_lock = threading.Lock()


def distributed_sweep(client, source, names: list[str], inception: str, amt_multipliers: bool, lag: int,
                      leverage: float | None, progress: Callable[[int, int], None] | None = None) -> pa.Table:
    """:func:`straddles.sweep` of ``names`` on a Dask cluster; ``source`` must be a results folder
    the workers can read. ``progress(done, total)`` counts tasks."""
    from ..strategies.sweep import SCHEMA, sort_by_sharpe

    folder = worker_folder(source)
    run_id = manifest_run_id(folder)
    n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    size = max(TASK_STRATEGIES, -(-len(names) // (n_workers * TASKS_PER_WORKER)))
    batches = [names[first:first + size] for first in range(0, len(names), size)]
    tables = run_tasks(client, run_sweep_batch, batches, progress, folder=folder, run_id=run_id,
                       inception=inception, amt_multipliers=amt_multipliers, lag=lag, leverage=leverage)
    return sort_by_sharpe(pa.concat_tables(tables) if tables else SCHEMA.empty_table())


def worker_folder(source) -> str:
    """The results folder as workers will open it: an absolute path. An in-memory Backtest is
    refused rather than pickled into every task."""
    if isinstance(source, (str, os.PathLike)):
        return os.path.abspath(os.fspath(source))
    raise StraddlesError(f"a sweep on a scheduler needs a results folder the workers can read, got a "
                         f"{type(source).__name__}; write the backtest with out= (or Backtest.write) first")


def manifest_run_id(folder: str) -> str:
    """The run id of the folder's manifest (a one-line error if the folder has none)."""
    path = Path(folder) / MANIFEST_FILE
    try:
        return str(json.loads(path.read_text())["run_id"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StraddlesError(f"{path}: not a backtest results folder ({exc})") from None


def worker_context(folder: str, run_id: str):
    """This process's StrategyContext of ``folder`` at ``run_id``, loaded on first use; the
    previous folder's context is dropped (one cube in memory per worker)."""
    from ..strategies.context import StrategyContext

    key = (folder, run_id)
    with _contexts_lock:
        if key not in _contexts:
            _contexts.clear()
            context = StrategyContext(folder)
            if manifest_run_id(folder) != run_id:
                raise StraddlesError(f"{folder}: the results folder was rewritten during the sweep")
            _contexts[key] = context
        return _contexts[key]


def run_sweep_batch(names: list[str], folder: str, run_id: str, inception: str, amt_multipliers: bool, lag: int,
                    leverage: float | None) -> pa.Table:
    """The task: one batch of strategies against this worker's context (rows in ``names`` order).
    The strategy kernels run ``prange`` loops: one task at a time per process (``KERNEL_LOCK``)."""
    from ..strategies.sweep import run_batch

    with KERNEL_LOCK:
        context = worker_context(folder, run_id)
        return run_batch(context, names, inception, amt_multipliers, lag, leverage)
