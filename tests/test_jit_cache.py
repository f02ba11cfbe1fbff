"""The numba cache is keyed on every source of a kernel's layer (straddles.jit)."""

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
