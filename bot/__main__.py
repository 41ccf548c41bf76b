"""``python -m bot`` is the ``chorus`` command."""

import sys

from bot.cli import main

sys.exit(main())
