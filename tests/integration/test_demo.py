"""The README's demo command, run as a newcomer would."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from enrichment_sandbox.demo import SAMPLE


def test_demo_prints_enriched_results_for_the_sample() -> None:
    """`enrichment-demo` enriches >= 10 rows with ids, key + Camelot, tags and a status each,
    then crawls the fixture site into the database with most entries enriched."""
    demo = Path(sys.executable).parent / "enrichment-demo"
    result = subprocess.run([str(demo)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    statuses = re.findall(r"status=(\w+)", out)
    assert len(statuses) == len(SAMPLE) >= 10
    assert statuses.count("COMPLETED") >= 10
    assert statuses[-2:] == ["NOT_FOUND", "NOT_FOUND"]  # the wrong-artist and absent rows
    assert re.search(r"spotify_id=[0-9A-Za-z]{22}\s+isrc=[A-Z]{2}[A-Z0-9]{3}\d{7}", out)
    assert re.search(r"musicbrainz_id=[0-9a-f-]{36}", out)
    assert re.search(r"key=[A-G][#b]? (Major|Minor) \(\d{1,2}[AB] / \d{1,2}[dm]\)", out)
    assert re.search(r"tags: \w", out)
    assert f"{len(SAMPLE)} answered from cache" in out
    crawled = re.search(
        r"(\d+) tracklist entries crawled in [\d.]+ s, (\d+) with a Spotify id", out
    )
    assert crawled is not None, out[-2000:]
    entries, with_spotify = int(crawled.group(1)), int(crawled.group(2))
    assert entries >= 50
    assert with_spotify >= 0.9 * entries
    assert re.search(r"\[completed\] spotify=[0-9A-Za-z]{22} bpm=\d+ key=.+ \(\d{1,2}[AB]\)", out)
    assert "server stopped (exit 0)" in out
