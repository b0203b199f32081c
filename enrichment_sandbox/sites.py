"""Serve recorded pages of the tracklist sites on 127.0.0.1, one port per site.

``FixtureSites(root)`` serves each sub-directory of ``root`` (``1001tracklists/``,
``mixesdb/``, ...) as its own origin, so pages keep their real root-relative links::

    with FixtureSites(root, api_keys={"setlistfm": "k"}) as sites:
        sites.base_urls["mixesdb"]    # "http://127.0.0.1:<port>"

URL -> file: ``/a/b`` is ``<site>/a/b``, else ``<site>/a/b.html`` / ``.json``;
``/a/`` is ``<site>/a/index.html`` (or ``<site>/a.json``); a paging query parameter
(``p``, ``page``, ``offset``, ``after``, ``pageToken``, ``pos``) picks
``<site>/a/b.<param><value>.json`` first (``?p=2`` -> ``b.p2.json``,
``search.json?after=t3_x`` -> ``search.aftert3_x.json``). A form ``POST`` pages like a GET
(1001tracklists' scroll ``/ajax/get_data.php`` with ``pos=2`` -> ``get_data.php.pos2.json``);
a GraphQL ``POST`` answers ``<path>/<operationName>[.<id>].json`` (``id``: the
``id`` variable, or ``lookup.slug`` as Mixcloud's ``cloudcastLookup`` sends). A site with
an API key answers its JSON files (its API) with 403 without the key and 401 with a wrong
one; the key may come as ``x-api-key`` / ``X-goog-api-key`` header (setlist.fm, YouTube),
``key`` / ``client_id`` query parameter (SoundCloud), OAuth bearer token or HTTP basic
user (Reddit); its HTML and scripts stay public. ``BASE_URL_SETTINGS`` names the setting
each site's spider reads its base URL from.
Used by the tests and by ``enrichment_sandbox.crawl_demo``; never by a real crawl.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["BASE_URL_SETTINGS", "DEFAULT_ROOT", "KEYED_SITES", "FixtureSites"]

#: The fixtures in a source checkout.
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "tests" / "scrapers" / "fixtures"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain",
}
#: Query parameters that page through an API listing, in the order they are looked for.
PAGING = ("p", "page", "offset", "after", "pageToken", "pos")
#: Query parameters that may carry a site's API key instead of the ``x-api-key`` header.
KEY_PARAMS = ("key", "client_id")
#: The sites whose API needs a credential (``crawl_settings`` gives each one).
KEYED_SITES = ("setlistfm", "soundcloud", "youtube")
#: Fixture site -> the setting its spider reads the base URL from.
BASE_URL_SETTINGS = {
    "1001tracklists": "TRACKLISTS1001_BASE_URL",
    "mixesdb": "MIXESDB_BASE_URL",
    "setlistfm": "SETLISTFM_BASE_URL",
    "reddit": "REDDIT_BASE_URL",
    "mixcloud": "MIXCLOUD_BASE_URL",
    "livetracklist": "LIVETRACKLIST_BASE_URL",
    "residentadvisor": "RESIDENTADVISOR_BASE_URL",
    "soundcloud": "SOUNDCLOUD_BASE_URL",
    "youtube": "YOUTUBE_BASE_URL",
    "internetarchive": "INTERNETARCHIVE_BASE_URL",
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
        self.arrivals: list[float] = []  # time.monotonic() of each request, in order

    def resolve(self, path: str, query: str) -> Path | None:
        """The file answering ``path?query``, if any."""
        relative = unquote(path).lstrip("/")
        base = (self.directory / relative).resolve()
        if not base.is_relative_to(self.directory.resolve()):
            return None
        candidates = [base.with_name(name) for name in _paged_names(base.name, query)]
        candidates += [base / "index.html", base, base.with_name(base.name + ".html")]
        candidates.append(base.with_name(base.name + ".json"))
        return next((c for c in candidates if c.is_file()), None)


def _paged_names(name: str, query: str) -> list[str]:
    """The file of a paged request: ``search.json?after=t3_x`` -> ``search.aftert3_x.json``."""
    params = parse_qs(query)
    stem = name.removesuffix(".json")
    for param in PAGING:
        if value := params.get(param, [""])[0]:
            return [f"{stem}.{param}{re.sub(r'[^A-Za-z0-9_-]', '', value)}.json"]
    return []


def _graphql_path(path: str, body: bytes) -> str:
    """The fixture path of a GraphQL POST: ``<path>/<operationName>[.<variables.id>]``."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return path
    operation = str(payload.get("operationName") or "query")
    variables = payload.get("variables") or {}
    ident = variables.get("id") or (variables.get("lookup") or {}).get("slug")
    return f"{path.rstrip('/')}/{operation}" + (f".{ident}" if ident is not None else "")


class _Handler(BaseHTTPRequestHandler):
    """GET, and POST for GraphQL; files as they are on disk."""

    server: _Site

    def do_GET(self) -> None:
        """Serve the file for the path, 403 without the API key, 404 otherwise."""
        url = urlsplit(self.path)
        self._answer(url.path, url.query)

    def do_POST(self) -> None:
        """A GraphQL (JSON) POST answers the file named by the operation (and its ``id``
        variable); a form POST pages like a GET (its fields join the query)."""
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if body.lstrip().startswith(b"{"):
            self._answer(url.path, url.query, _graphql_path(url.path, body))
            return
        query = "&".join(part for part in (url.query, body.decode("latin-1")) if part)
        self._answer(url.path, query)

    def _answer(self, path: str, query: str, file_path: str | None = None) -> None:
        """Log the request, check the API key (API answers only), send the file (or 404)."""
        self.server.requests.append((path, self.headers.get("User-Agent", "")))
        self.server.arrivals.append(time.monotonic())
        time.sleep(self.server.latency_s)
        found = self.server.resolve(file_path or path, query)
        key = self.server.api_key
        if key and found is not None and found.suffix == ".json":
            given = self._keys(query)
            if key not in given:
                # A wrong key is "unauthorised" (401, as SoundCloud answers a stale
                # client_id); no key at all is "forbidden" (403, as setlist.fm answers).
                status = 401 if any(given) else 403
                self._send(status, b'{"code":%d,"message":"refused"}' % status, ".json")
                return
        if found is None:
            self._send(404, b"not found", ".txt")
            return
        self._send(200, found.read_bytes(), found.suffix)

    def _keys(self, query: str) -> list[str]:
        """Every place a client may put its key: header, query, bearer or basic user."""
        params = parse_qs(query)
        given = [self.headers.get("x-api-key") or "", self.headers.get("x-goog-api-key") or ""]
        given += [params.get(p, [""])[0] for p in KEY_PARAMS]
        scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            given.append(credential)
        elif scheme.lower() == "basic":
            user = base64.b64decode(credential + "==").decode("latin-1").partition(":")[0]
            given.append(user)
        return [value for value in given if value]

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

    def crawl_settings(self, api_key: str) -> dict[str, str]:
        """Scrapy settings that point every spider here with ``api_key`` as its credential,
        with the per-site politeness delays off (local pages) and the loopback guard on."""
        urls = self.base_urls
        return self.base_url_settings() | {
            "SETLISTFM_API_KEY": api_key,
            "SOUNDCLOUD_CLIENT_ID": api_key,
            "SOUNDCLOUD_WEB_URL": urls.get("soundcloud", ""),
            "YOUTUBE_API_KEY": api_key,
            "REDDIT_CLIENT_ID": "fixture-client",
            "REDDIT_CLIENT_SECRET": "fixture-secret",
            "REDDIT_OAUTH_BASE_URL": urls.get("reddit", ""),
            "MIXCLOUD_GRAPHQL_URL": urls.get("mixcloud", "") + "/graphql",
            "RESIDENTADVISOR_ENABLED": "true",
            "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_ENABLED": "false",
            "SCRAPERS_LOOPBACK_ONLY": "true",
        }

    def base_url_settings(self) -> dict[str, str]:
        """``<SOURCE>_BASE_URL`` -> this run's URL, for every site with a known setting."""
        urls = self.base_urls
        return {
            BASE_URL_SETTINGS[name]: url for name, url in urls.items() if name in BASE_URL_SETTINGS
        }

    @property
    def base_urls(self) -> dict[str, str]:
        """Site name -> ``http://127.0.0.1:<port>``."""
        return {
            name: f"http://127.0.0.1:{site.server_address[1]}" for name, site in self.sites.items()
        }

    def min_gap_s(self, site: str) -> float | None:
        """The shortest time between two requests ``site`` received (None: fewer than two).

        For reports of a crawl's pace; tests never assert it (a busy machine stretches it).
        """
        times = sorted(self.sites[site].arrivals)
        return min((b - a for a, b in itertools.pairwise(times)), default=None)

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
        # Each serve_forever notices a shutdown at its next poll (up to 0.5 s): asked one
        # after the other, a dozen sites took seconds to stop; asked together, one poll.
        stopping = [threading.Thread(target=site.shutdown) for site in self.sites.values()]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        for site in self.sites.values():
            site.server_close()
