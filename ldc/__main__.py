"""``python -m ldc``: see :mod:`ldc.cli`."""
from ldc.cli import main

raise SystemExit(main())
