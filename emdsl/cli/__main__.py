"""``python -m emdsl.cli``: the ``emx`` command."""

import sys

from emdsl.cli import main

sys.exit(main())
