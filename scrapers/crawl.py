"""Run spiders in one process: ``python -m scrapers.crawl [SPIDER ...] [-s NAME=VALUE ...]``.

No spider names: every spider. ``--stats-out FILE`` writes, per spider, Scrapy's stats
and the item pipelines that actually ran (tests and the demo read it). Every spider of the
process writes through one bounded database pool (``scrapers.dbpool``). The exit status is
1 when a spider did not finish normally or an item could not be saved. The settings are
``scrapers.settings`` unless ``SCRAPY_SETTINGS_MODULE`` names others; ``scrapy crawl``
from the ``scrapers/`` directory works as well, one spider at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.project import get_project_settings

from scrapers.dbpool import PoolConfig, SharedEngines

__all__ = ["crawl", "main"]


def _report(crawler: Crawler) -> dict[str, Any]:
    """A spider's stats and enabled pipelines, JSON-ready."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    engine = crawler.engine
    pipelines = [type(p).__name__ for p in engine.scraper.itemproc.middlewares] if engine else []
    return {
        "stats": {key: value for key, value in stats.items() if isinstance(value, int | float)},
        "pipelines": pipelines,
        "finish_reason": stats.get("finish_reason"),
    }


def crawl(spiders: list[str], overrides: dict[str, str], stats_out: Path | None) -> int:
    """Run the spiders concurrently to the end; 0 if every one finished normally."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scrapers.settings")
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    settings.set("SCRAPERS_SHARED_ENGINES", SharedEngines(PoolConfig.from_settings(settings)))
    process = CrawlerProcess(settings)
    names = spiders or sorted(process.spider_loader.list())
    crawlers = [process.create_crawler(name) for name in names]
    reports: dict[str, Any] = {}

    def keep(result: Any, crawler: Crawler) -> Any:
        reports[crawler.spider.name if crawler.spider else "?"] = _report(crawler)
        return result

    for crawler in crawlers:
        process.crawl(crawler).addBoth(keep, crawler)
    process.start()
    if stats_out is not None:
        stats_out.write_text(json.dumps(reports, indent=2, sort_keys=True, default=str))
    finished = all(report["finish_reason"] == "finished" for report in reports.values())
    lost = sum(
        count
        for report in reports.values()
        for name, count in report["stats"].items()
        if name.startswith("persistence/failed/")
    )
    return 0 if finished and not lost and len(reports) == len(names) else 1


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spiders", nargs="*", help="spider names (default: all)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--stats-out", type=Path)
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    return crawl(args.spiders, overrides, args.stats_out)


if __name__ == "__main__":
    sys.exit(main())
