"""``python -m research``: see :mod:`research.cli`."""

import sys

from research.cli import main

sys.exit(main())
