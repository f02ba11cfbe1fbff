"""The numba cache is keyed on every source of a kernel's layer (straddles.jit)."""

import os
import subprocess
import sys

from straddles import jit
from straddles.engine.cache import sources_digest
from straddles.engine import kernel, models
from straddles.strategies import nb


def test_package_kernels_use_the_package_locator():
    for dispatcher in (kernel._run, models.es_value, nb.cohort_books):
        assert isinstance(dispatcher._cache._impl.locator, jit.PackageSourceLocator)


def test_stamp_covers_the_sibling_modules(tmp_path):
    (tmp_path / "kernel.py").write_text("x = 1\n")
    (tmp_path / "models.py").write_text("y = 1\n")
    (tmp_path / "notes.txt").write_text("ignored\n")
    before = sources_digest(tmp_path)
    (tmp_path / "notes.txt").write_text("still ignored\n")
    assert sources_digest(tmp_path) == before
    (tmp_path / "models.py").write_text("y = 2\n")  # an edit beside the kernel's own file
    assert sources_digest(tmp_path) != before


def test_functions_outside_the_package_keep_numbas_locators(tmp_path):
    source = tmp_path / "user_module.py"
    source.write_text("def f():\n    return 1\n")
    namespace = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    assert jit.PackageSourceLocator.from_function(namespace["f"], str(source)) is None


def test_the_stamp_changes_with_an_engine_source(tmp_path, monkeypatch):
    locator = kernel._run._cache._impl.locator
    stamp = locator.get_source_stamp()
    monkeypatch.setattr(jit, "sources_digest", lambda folder: "edited")
    assert locator.get_source_stamp() != stamp


def test_openmp_threads_sleep_between_loops_unless_the_user_says_otherwise():
    """Importing the package's jit sets OMP_WAIT_POLICY=PASSIVE by default and keeps a user's value."""
    code = "import os, straddles.jit; print(os.environ['OMP_WAIT_POLICY'])"
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for given, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        env = dict(environ, **({} if given is None else {"OMP_WAIT_POLICY": given}))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected


def test_cached_kernels_load_without_numbas_compiler(tmp_path):
    """straddles.jit.QuickLoadCache: a kernel compiled in one process loads from the disk cache in the
    next without numba importing its compiler's implementations, and computes the same bits."""
    code = ("import sys; from straddles.engine import models; "
            "print(repr(models.es_value(101.5, 100.0, 23.0, 17)), type(models.es_value._cache).__name__, "
            "sum(models.es_value.stats.cache_hits.values()), 'numba.np.arraymath' in sys.modules)")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            .stdout.split() for _ in range(2)]
    compiled, loaded = runs
    assert compiled[-3:] == ["QuickLoadCache", "0", "True"]  # a cache miss compiles, through numba
    assert loaded[-3:] == ["QuickLoadCache", "1", "False"]  # then loads without the compiler
    assert loaded[:-3] == compiled[:-3]  # the same value, to the last bit
