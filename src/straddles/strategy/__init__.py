"""The strategy layer (STRATEGY.md): daily weights from signals on past P&L, applied to a backtest."""
