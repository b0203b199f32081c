"""``scrapy check``: the spiders' callback contracts pass on our fixture pages, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def scrapy_check(*spiders: str, fixtures: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy check`` from the Scrapy project directory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if fixtures is not None:
        env["SCRAPERS_CONTRACT_FIXTURES"] = str(fixtures)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "check", *spiders],
        cwd=ROOT / "scrapers",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_contracts_pass_on_the_fixtures() -> None:
    """Every ``@fixture`` contract holds (tracklist pages, DJ page requests)."""
    result = scrapy_check("1001tracklists", "livetracklist")
    print(result.stderr[-400:])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Ran 5 contracts" in result.stderr


def test_a_broken_page_fails_the_contract(tmp_path: Path) -> None:
    """A page that lost its rows fails ``@returns`` (the contracts can be false)."""
    source = ROOT / "tests" / "scrapers" / "fixtures"
    page = "livetracklist/eric-prydz-holo-alexandra-palace-london-2019-07-13.html"
    broken = tmp_path / page
    broken.parent.mkdir(parents=True)
    broken.write_text((source / page).read_text().replace('id="TheList"', 'id="Gone"'))
    result = scrapy_check("livetracklist", fixtures=tmp_path)
    assert result.returncode != 0
    assert "FAIL" in result.stderr
