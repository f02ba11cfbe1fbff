"""``Valuation.Model`` names and the integer codes the kernel dispatches on (SPEC 11.1).

Kept apart from :mod:`straddles.engine.models` so that the stages before the kernel (expansion, legs) do
not import numba.
"""

MODEL_UNSUPPORTED, MODEL_ES, MODEL_NS = 0, 1, 2
#: ES and CDS_ES are the same model; anything else (BS, unknown, missing) is unsupported
MODEL_CODES = {"ES": MODEL_ES, "CDS_ES": MODEL_ES, "NS": MODEL_NS}
