"""``python -m tests.evaluation``: the same as ``python -m tests.evaluation.report``."""

from tests.evaluation.report import main

raise SystemExit(main())
