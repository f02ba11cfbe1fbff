"""The public API: every exported name is what it says, whatever was imported before."""

import importlib
import pkgutil
import types

import straddles


def test_every_public_name_resolves_to_an_object_not_a_module():
    for module in pkgutil.walk_packages(straddles.__path__, "straddles."):
        if module.name != "straddles.__main__":
            importlib.import_module(module.name)  # binds every submodule as a package attribute
    for name in straddles.__all__:
        value = getattr(straddles, name)
        assert not isinstance(value, types.ModuleType), name
    assert callable(straddles.backtest) and callable(straddles.expand) and callable(straddles.stats)


def test_import_loads_no_heavy_layer():
    import subprocess
    import sys
    code = "import sys, straddles; print(sorted({'numba', 'pandas', 'pyarrow', 'straddles.engine'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
