"""``straddles explore``: a local web app over a results folder (optional extra ``explore``).

:mod:`.data` computes each view's numbers (pure, no web framework), :mod:`.days` gives random
access to the day table, :mod:`.figures` draws them with Plotly and :mod:`.app` lays them out
in a Dash app; :mod:`.strategy` runs strategy specs for the strategy tab. :func:`serve` opens a folder and runs the app until interrupted.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import StraddlesError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8050


def require_dash() -> None:
    """Raise a one-line error naming the extra when Dash or Plotly is not installed."""
    try:
        import dash  # noqa: F401
        import dash_ag_grid  # noqa: F401
        import plotly  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as exc:
        raise StraddlesError(f"straddles explore needs the 'explore' extra ({exc.name} is missing): "
                             "pip install 'straddles[explore]'") from None


def serve(folder: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          sweep: str | Path | None = None) -> None:
    """Open the results ``folder`` and serve the explorer on ``http://host:port`` until interrupted.

    ``sweep``: a sweep Parquet file (``straddles sweep --out``) for the strategy tab's table;
    by default ``folder/sweep.parquet`` when present.

    Raises :class:`~straddles.StraddlesError` when the folder is not a results folder or the
    ``explore`` extra is missing. Binds to 127.0.0.1 unless told otherwise: the app has no login.
    """
    require_dash()
    from .app import build_app
    from .data import Filters, Results
    from .strategy import Strategies, sweep_for

    results = Results(folder)
    strategies = Strategies(results.backtest, sweep_for(results.folder, sweep))
    results.prepare_in_background()           # the day table, for instant drill-downs and entry filters
    results.view(Filters()).compute()         # the opening view, ready before the first request
    build_app(results, strategies).run(host=host, port=port, debug=False)
