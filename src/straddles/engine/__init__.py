"""The valuation engine (SPEC sections 1-18): from an AMT file and a price store to per-straddle,
per-day and per-asset P&L. Nothing here depends on the results, strategy or explorer layers."""
