"""``scrapy check`` offline: the ``@fixture`` contract reads one of our fixture pages.

A callback's docstring names the page (relative to ``tests/scrapers/fixtures`` in a
checkout, or ``SCRAPERS_CONTRACT_FIXTURES``) and what the callback must return::

    @fixture 1001tracklists/tracklist/2m7xk1/eric-prydz-creamfields-united-kingdom-2019-08-24.html
    @returns items 41 41

``scrapy check`` then runs the callback on that page through Scrapy's ``file://``
download handler: no network, no live site, no pipelines. Contracts on the live sites
(``@url``) would hit them on every check, which the sites' politeness rules forbid.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from scrapy.contracts import Contract

__all__ = ["FixtureContract", "fixture_root"]


def fixture_root() -> Path:
    """Where the fixture pages are (``SCRAPERS_CONTRACT_FIXTURES`` overrides)."""
    configured = os.environ.get("SCRAPERS_CONTRACT_FIXTURES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1] / "tests" / "scrapers" / "fixtures"


class FixtureContract(Contract):
    """``@fixture <site>/<path>``: the request is for that fixture page, as a file URL."""

    name = "fixture"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Point the request at the fixture file."""
        args["url"] = (fixture_root() / self.args[0]).as_uri()
        return args
