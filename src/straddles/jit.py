"""numba for the package's compiled kernels, with an on-disk cache that notices every source edit.

numba keys a cached function on its own source file only. A kernel also bakes in what it calls
and reads from other modules (the models, status codes, leg slots), so after an edit there, or an
upgrade, a cached kernel would silently run the old code. Every module with compiled code imports
``njit``/``prange`` from here: importing this module puts :class:`PackageSourceLocator` first in
numba's list of cache locators. It keeps the place numba would choose for the cache (including a
user's ``NUMBA_CACHE_DIR``) and adds to the freshness stamp a digest of every ``.py`` file in the
function's folder of this package: a kernel is recompiled after any edit in its layer.

Cached functions load through :class:`QuickLoadCache`: numba's own cache imports all of its
compiler's lowering registries before it loads machine code (about 0.2-0.4 s of every process, and
its BLAS probe imports SciPy), although only compiling needs them.

Importing it also makes OpenMP's idle threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``,
unless the environment sets it): numba's OpenMP threading layer otherwise keeps its threads
spinning between ``prange`` loops, and the strategy layer runs many short loops from Python, so
spinning threads took the cores from the main thread and from other processes (a sweep measured
14.8-15.9 s instead of 18.4-21.3 s, one strategy 19 ms instead of 37 ms, on a shared 2-core
machine; BENCHMARKS.md). libgomp reads the variable when numba first loads it, at the first
parallel loop, after this import.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402 - after the OpenMP setting, by intent
from numba import prange  # noqa: E402
from numba.core.caching import CacheImpl, FunctionCache, _CacheLocator  # noqa: E402
from numba.core.runtime import rtsys  # noqa: E402

from .engine.cache import sources_digest  # noqa: E402

__all__ = ["njit", "prange", "PackageSourceLocator", "QuickLoadCache"]

PACKAGE_DIR = Path(__file__).resolve().parent


def njit(function=None, **options):
    """``numba.njit`` with the same options; with ``cache=True`` the machine code is cached on disk
    and loaded through :class:`QuickLoadCache`."""

    def compiled(python_function):
        dispatcher = numba.njit(**dict(options, cache=False))(python_function)
        if options.get("cache"):
            dispatcher._cache = QuickLoadCache(python_function)
        return dispatcher

    return compiled if function is None else compiled(function)


class QuickLoadCache(FunctionCache):
    """numba's on-disk function cache, loading without numba's compiler.

    numba's :meth:`load_overload` first refreshes the target context, which imports every lowering
    implementation numba has (arrays, linear algebra, random, typed containers, ...). Loading
    machine code needs only the runtime it links against (NRT), which this initializes; a cache
    miss compiles, and numba's compiler refreshes the context itself before it starts."""

    def load_overload(self, sig, target_context):
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


class PackageSourceLocator(_CacheLocator):
    """A numba cache locator for this package's functions: numba's own choice of cache place, with a
    freshness stamp that also covers the sibling sources of the function's module."""

    def __init__(self, inner: _CacheLocator, py_file: str):
        self._inner = inner
        self._py_file = py_file  # numba's messages read it
        self._folder = Path(py_file).resolve().parent

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    def get_source_stamp(self):
        return self._inner.get_source_stamp(), sources_digest(self._folder)

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            Path(py_file).resolve().relative_to(PACKAGE_DIR)
        except (ValueError, OSError):
            return None  # not ours: numba's own locators handle it
        for locator_class in CacheImpl._locator_classes:
            if locator_class is not cls:
                inner = locator_class.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner, py_file)
        return None


if PackageSourceLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, PackageSourceLocator)
