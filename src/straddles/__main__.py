"""``python -m straddles``: the same as the ``straddles`` command."""

from .cli import run

run()
