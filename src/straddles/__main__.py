"""``python -m straddles``: the same as the ``straddles`` command."""

import sys

from .cli import main

sys.exit(main())
