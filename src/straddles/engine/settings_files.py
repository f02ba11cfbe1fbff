"""Small YAML settings files (cost models, holiday calendars, strategy grids, backtest variants).

Each is read the same way: a missing file, invalid YAML or a document that is not a mapping ends
in one line naming the file and what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from ..errors import StraddlesError


def read_settings(path: str | Path, what: str, expected: str, allow_empty: bool = False) -> Mapping:
    """The mapping in the YAML file ``path``; ``what`` names the kind of file ("cost file") and
    ``expected`` describes its shape for the error message. ``allow_empty`` reads an empty file
    as an empty mapping."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StraddlesError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise StraddlesError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None and allow_empty:
        return {}
    if not isinstance(data, Mapping):
        raise StraddlesError(f"{path}: a {what} is {expected}")
    return data
