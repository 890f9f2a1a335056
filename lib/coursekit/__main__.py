"""`python -m coursekit` runs the `course` command (see coursekit.cli)."""

import sys

from coursekit.cli import main

sys.exit(main())
