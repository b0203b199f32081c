"""``python -m tests.evaluation``: the same as ``python -m tests.evaluation.run``."""

from tests.evaluation.run import main

raise SystemExit(main())
