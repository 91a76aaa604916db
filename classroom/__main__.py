"""``python -m classroom``: see :mod:`classroom.course`."""
import sys

from classroom.course import main

sys.exit(main())
