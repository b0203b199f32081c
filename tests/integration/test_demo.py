"""The README's demo command, run as a newcomer would: its output, the README's figures,
its ports, and its children stopped with it."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import pytest

from enrichment_sandbox.demo_sample import SAMPLE
from tests.integration.demo_process import DemoProcess, survivors

README = Path(__file__).resolve().parents[2] / "README.md"
CRAWLED = re.compile(r"(\d+) tracklist entries crawled in [\d.]+ s, (\d+) with a Spotify id")


def readme_demo_output() -> list[str]:
    """The lines of the output blocks the README's Quickstart shows (not the sh block)."""
    text = README.read_text()
    quickstart = text[text.index("## Quickstart") : text.index("## The contract")]
    lines: list[str] = []
    fence: str | None = None
    for line in quickstart.splitlines():
        if line.startswith("```"):
            fence = line if fence is None else None
        elif fence == "```" and line != "...":
            lines.append(line)
    return lines


# A whole demo run (sample + ten-site crawl in real processes): minutes on a busy machine.
@pytest.mark.timeout(600)
def test_demo_prints_enriched_results_for_the_sample(tmp_path: Path) -> None:
    """`enrichment-demo` enriches >= 10 rows with ids, key + Camelot, tags and a status each,
    then crawls the fixture sites into the database with most entries enriched; every line
    and count the README shows for it is what a run prints."""
    with DemoProcess(tmp_path) as demo:
        result = demo.wait()
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
    crawled = CRAWLED.search(out)
    assert crawled is not None, out[-2000:]
    entries, with_spotify = int(crawled.group(1)), int(crawled.group(2))
    assert entries >= 50
    assert with_spotify >= 0.9 * entries
    assert re.search(r"\[completed\] spotify=[0-9A-Za-z]{22} bpm=\d+ key=.+ \(\d{1,2}[AB]\)", out)
    assert "server stopped (exit 0)" in out
    assert (tmp_path / "enrichment.db").is_file()  # the documented database file
    shown = readme_demo_output()
    figures = [line for line in shown if CRAWLED.search(line)]
    assert len(figures) == 1
    readme_crawl = CRAWLED.search(figures[0])
    assert readme_crawl is not None
    assert readme_crawl.groups() == crawled.groups(), "README's crawl figures are stale"
    printed = set(out.splitlines())
    missing = [line for line in shown if line not in figures and line not in printed]
    assert not missing, missing


# A whole demo run (sample + ten-site crawl in real processes): minutes on a busy machine.
@pytest.mark.timeout(600)
def test_sigint_during_the_crawl_stops_every_child(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the demo alone) in the middle of the run stops the sandbox, the
    server and the crawl: none survives the demo, which exits 130."""
    with DemoProcess(tmp_path) as demo:
        demo.wait_for("crawling the local fixture sites")
        children = demo.children()
        code = demo.stop(signal.SIGINT)
    assert len(children) >= 2, [c.cmdline() for c in children]
    assert code == 130
    assert survivors(children) == []


def test_a_taken_port_stops_the_demo_at_once_naming_it(tmp_path: Path) -> None:
    """A port already listened on: exit 2, a message naming the port and the option, and
    nothing started."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with DemoProcess(tmp_path, metrics_port=taken) as demo:
            result = demo.wait(timeout_s=60)
    assert result.returncode == 2
    assert f"port {taken} on 127.0.0.1 is taken" in result.stderr
    assert "--metrics-port" in result.stderr
    assert not (tmp_path / "enrichment.db").exists()


def test_readme_names_the_bundled_catalogue_size() -> None:
    """The Quickstart's catalogue figure is the bundled catalogue's track count."""
    from enrichment_sandbox.catalogue import load_catalogue

    stated = re.search(r"bundled catalogue of (\d+) DJ tracks", README.read_text())
    assert stated is not None
    assert int(stated.group(1)) == len(load_catalogue().tracks)
