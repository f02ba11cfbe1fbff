"""Straddle status codes (SPEC 13.1).

Every straddle keeps its row whatever the data; ``status`` says whether it was valued and, if not,
the first reason that applies. Kernels work with the small integer codes below; outputs carry the
names as a dictionary-encoded string column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

#: status names in SPEC priority order; the code of a status is its position + 1
STATUS_NAMES = (
    "unsupported_expiry",
    "no_legs",
    "unsupported_model",
    "no_override",
    "no_anchor",
    "no_prices",
    "no_entry",
    "no_expiry",
    "bad_entry",
    "valued",
)
#: code 0: not decided yet (the expand stage only knows the price-independent statuses 1..5)
PENDING = 0
(UNSUPPORTED_EXPIRY, NO_LEGS, UNSUPPORTED_MODEL, NO_OVERRIDE, NO_ANCHOR,
 NO_PRICES, NO_ENTRY, NO_EXPIRY, BAD_ENTRY, VALUED) = range(1, len(STATUS_NAMES) + 1)

_DICTIONARY = pa.array(STATUS_NAMES, type=pa.string())


def status_array(codes: np.ndarray) -> pa.DictionaryArray:
    """Dictionary-encoded status names; PENDING becomes null."""
    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8) - 1, mask=codes == PENDING), _DICTIONARY)
