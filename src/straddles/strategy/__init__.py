"""The strategy layer (STRATEGY.md): from a backtest's raw P&L to a traded, sized book.

``straddles.strategy(results, "npnl:mac.180.30+srp.365:grank:ivol:none:gah")`` runs one strategy
(:func:`straddles.strategy.api.strategy`); ``straddles.sweep(results, grid)`` runs many
(:mod:`straddles.strategy.sweep`). Modules, in pipeline order: :mod:`.cube` (the cohort cube and
the inception lock), :mod:`.context` (what strategies share), :mod:`.inputs`, :mod:`.signals`
(with :mod:`.recursion`, the AMT ``signal_table`` language), :mod:`.transforms`, :mod:`.risk`,
:mod:`.hedge`, :mod:`.api`, :mod:`.spec` (the name grammar), :mod:`.sweep`; compiled kernels in
:mod:`.nb`, their slow twins in :mod:`.reference`.

This package is also callable: ``straddles.strategy`` is both the public function and this
package (a submodule import rebinds the package attribute, so the package forwards calls to
:func:`~straddles.strategy.api.strategy`).
"""

from __future__ import annotations

import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from .api import strategy

        return strategy(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
