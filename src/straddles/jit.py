"""numba for the package's compiled kernels, with an on-disk cache that notices every source edit.

numba keys a cached function on its own source file only. A kernel also bakes in what it calls
and reads from other modules (the models, status codes, leg slots), so after an edit there, or an
upgrade, a cached kernel would silently run the old code. Every module with compiled code imports
``njit``/``prange`` from here: importing this module puts :class:`PackageSourceLocator` first in
numba's list of cache locators. It keeps the place numba would choose for the cache (including a
user's ``NUMBA_CACHE_DIR``) and adds to the freshness stamp a digest of every ``.py`` file in the
function's folder of this package: a kernel is recompiled after any edit in its layer.
"""

from __future__ import annotations

from pathlib import Path

from numba import njit, prange
from numba.core.caching import CacheImpl, _CacheLocator

from .engine.cache import sources_digest

__all__ = ["njit", "prange", "PackageSourceLocator"]

PACKAGE_DIR = Path(__file__).resolve().parent


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
