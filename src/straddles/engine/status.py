"""Straddle status codes (SPEC 13.1).

Every straddle keeps its row whatever the data; ``status`` says whether it was valued and, if not,
the first reason that applies. Kernels work with the small integer codes below; outputs carry the
names as a dictionary-encoded string column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

#: status names in SPEC priority order (``open``, SPEC 16.1, comes just before ``valued``)
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
    "open",
    "valued",
)
#: the status of each code: code k is ``CODE_NAMES[k - 1]``. ``open`` was added after the others, so
#: it takes the last code and the ten older codes (and the outputs of runs without ``asof``) keep
#: their values.
CODE_NAMES = STATUS_NAMES[:-2] + ("valued", "open")
#: what each status means, in words for reports (SPEC 13.1)
STATUS_MEANINGS = {
    "unsupported_expiry": "expiry code not F/R/W/BD/OVERRIDE (or a bad occurrence number)",
    "no_legs": "F straddle without a usable far vol",
    "unsupported_model": "valuation model not ES, CDS_ES or NS",
    "no_override": "OVERRIDE expiry with no row in the overrides CSV for the entry or expiry month",
    "no_anchor": "the F/R/W/BD occurrence does not exist in the entry or expiry month",
    "no_prices": "some leg has no price on any day of the straddle's span",
    "no_entry": "no day with all legs priced in the entry month",
    "no_expiry": "no day with all legs priced between the expiry anchor and the month end",
    "bad_entry": "the model rejects the entry day's inputs",
    "open": "open at asof: entry not decided yet, or entered and not expired yet (rows up to asof)",
    "valued": "valued: daily P&L produced",
}
assert tuple(STATUS_MEANINGS) == STATUS_NAMES
#: code 0: not decided yet (the expand stage only knows the price-independent statuses 1..5)
PENDING = 0
(UNSUPPORTED_EXPIRY, NO_LEGS, UNSUPPORTED_MODEL, NO_OVERRIDE, NO_ANCHOR,
 NO_PRICES, NO_ENTRY, NO_EXPIRY, BAD_ENTRY, VALUED, OPEN) = range(1, len(CODE_NAMES) + 1)

#: the output dictionary: the ten SPEC 13.1 names, plus ``open`` only in runs that have open straddles
_DICTIONARY = pa.array(CODE_NAMES[:-1], type=pa.string())
_DICTIONARY_WITH_OPEN = pa.array(CODE_NAMES, type=pa.string())


def code_of(name: str) -> int:
    """The code of a status name."""
    return CODE_NAMES.index(name) + 1


def status_array(codes: np.ndarray) -> pa.DictionaryArray:
    """Dictionary-encoded status names; PENDING becomes null."""
    codes = np.asarray(codes)
    dictionary = _DICTIONARY_WITH_OPEN if (codes == OPEN).any() else _DICTIONARY
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8) - 1, mask=codes == PENDING), dictionary)
