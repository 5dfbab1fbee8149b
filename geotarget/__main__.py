"""``python -m geotarget``."""

import sys

from .cli import main

sys.exit(main())
