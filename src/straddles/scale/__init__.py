"""Scale: large synthetic universes for benchmarks, and (later) the Dask executor."""
