"""python -m simulator: the same as the crm-simulator command."""

import sys

from simulator.cli import main

sys.exit(main())
