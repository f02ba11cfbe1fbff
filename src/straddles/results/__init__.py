"""Results a person reads: portfolio aggregation, performance statistics, the HTML report and the
day-by-day explanation of one straddle. Built on the engine's outputs, never the other way round."""
