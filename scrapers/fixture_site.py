"""Serve recorded pages of the tracklist sites on 127.0.0.1, one port per site.

``FixtureSites(root)`` serves each sub-directory of ``root`` (``1001tracklists/``,
``mixesdb/``, ...) as its own origin, so pages keep their real root-relative links::

    with FixtureSites(root, api_keys={"setlistfm": "k"}) as sites:
        sites.base_urls["mixesdb"]    # "http://127.0.0.1:<port>"

URL -> file: ``/a/b`` is ``<site>/a/b``, else ``<site>/a/b.html`` / ``.json``;
``/a/`` is ``<site>/a/index.html``; a ``p=N`` query (API pagination) picks
``<site>/a/b.pN.json``. A site with an API key answers 403 without ``x-api-key``.
Used by the tests and by ``scrapers.demo``; never by a real crawl.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["DEFAULT_ROOT", "FixtureSites"]

#: The fixtures in a source checkout.
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "tests" / "scrapers" / "fixtures"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain",
}


class _Site(ThreadingHTTPServer):
    """One site's server: its directory, API key, latency and request log."""

    daemon_threads = True

    def __init__(self, directory: Path, api_key: str | None, latency_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.directory = directory
        self.api_key = api_key
        self.latency_s = latency_s
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)

    def resolve(self, path: str, query: str) -> Path | None:
        """The file answering ``path?query``, if any."""
        relative = unquote(path).lstrip("/")
        base = (self.directory / relative).resolve()
        if not base.is_relative_to(self.directory.resolve()):
            return None
        page = parse_qs(query).get("p", [""])[0]
        candidates = [base.with_name(f"{base.name}.p{page}.json")] if page else []
        candidates += [base / "index.html", base, base.with_name(base.name + ".html")]
        candidates.append(base.with_name(base.name + ".json"))
        return next((c for c in candidates if c.is_file()), None)


class _Handler(BaseHTTPRequestHandler):
    """GET only; files as they are on disk."""

    server: _Site

    def do_GET(self) -> None:
        """Serve the file for the path, 403 without the API key, 404 otherwise."""
        url = urlsplit(self.path)
        self.server.requests.append((url.path, self.headers.get("User-Agent", "")))
        time.sleep(self.server.latency_s)
        key = self.server.api_key
        if key and url.path != "/robots.txt" and self.headers.get("x-api-key") != key:
            self._send(403, b'{"code":403,"message":"Forbidden"}', ".json")
            return
        found = self.server.resolve(url.path, url.query)
        if found is None:
            self._send(404, b"not found", ".txt")
            return
        self._send(200, found.read_bytes(), found.suffix)

    def _send(self, status: int, body: bytes, suffix: str) -> None:
        """Write one response."""
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPES.get(suffix, "text/html; charset=utf-8"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is ``requests``."""


class FixtureSites:
    """Every site under ``root`` on its own loopback port, in background threads."""

    def __init__(
        self,
        root: Path = DEFAULT_ROOT,
        *,
        api_keys: dict[str, str] | None = None,
        latency_s: float = 0.0,
    ) -> None:
        keys = api_keys or {}
        self.sites = {
            path.name: _Site(path, keys.get(path.name), latency_s)
            for path in sorted(root.iterdir())
            if path.is_dir()
        }
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in self.sites.values()
        ]

    @property
    def base_urls(self) -> dict[str, str]:
        """Site name -> ``http://127.0.0.1:<port>``."""
        return {
            name: f"http://127.0.0.1:{site.server_address[1]}" for name, site in self.sites.items()
        }

    def requests(self, site: str) -> list[tuple[str, str]]:
        """(path, User-Agent) of every request ``site`` received."""
        return list(self.sites[site].requests)

    def describe(self) -> str:
        """The base URLs as JSON (what the CLI prints)."""
        return json.dumps(self.base_urls)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for site in self.sites.values():
            site.shutdown()
            site.server_close()
