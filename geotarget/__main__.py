"""``python -m geotarget``."""

import sys

from geotarget.cli.main import main

sys.exit(main())
