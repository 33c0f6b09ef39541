"""`python -m server` runs the lianshen command."""

import sys

from server.cli import main

sys.exit(main())
