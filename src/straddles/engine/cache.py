"""Where on-disk caches live: ``$STRADDLES_CACHE_DIR``, else ``~/.cache/straddles``.

Caches only ever speed things up: every cache file is keyed by what it was built from, written
atomically, and ignored (then rebuilt) when it cannot be read.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    """The cache folder for one kind of cached object (``prices``, ``amt``)."""
    root = os.environ.get("STRADDLES_CACHE_DIR") or Path.home() / ".cache" / "straddles"
    return Path(root) / kind
