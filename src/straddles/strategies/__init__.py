"""The strategy layer (STRATEGY.md): from a backtest's raw P&L to a traded, sized book.

``straddles.strategy(results, "npnl:mac.180.30+srp.365:grank:ivol:none:gah")`` runs one strategy
(:func:`straddles.strategies.api.strategy`); ``straddles.sweep(results, grid)`` runs many
(:mod:`straddles.strategies.sweep`). Modules, in pipeline order: :mod:`.cube` (the cohort cube
and the inception lock), :mod:`.context` (what strategies share), :mod:`.inputs`, :mod:`.signals`
(with :mod:`.recursion`, the AMT ``signal_table`` language), :mod:`.transforms`, :mod:`.risk`,
:mod:`.hedge`, :mod:`.api`, :mod:`.spec` (the name grammar), :mod:`.sweep`; compiled kernels in
:mod:`.nb`, their slow twins in :mod:`.reference`.

The package is called ``strategies``, not ``strategy``, so that importing it never rebinds the
public function ``straddles.strategy`` to a module.
"""
