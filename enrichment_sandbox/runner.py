"""Run all five upstream imitations on 127.0.0.1 and hand out the settings that point at them.

::

    async with Sandbox(catalogue) as sandbox:
        env = sandbox.settings()          # ENRICHMENT_* variables for the service
        sandbox.spotify.controls.faults.add(FaultRule(kind="rate_limit", times=1))
        sandbox.lastfm.base_url           # "http://127.0.0.1:<port>"

The upstreams are Spotify, MusicBrainz, Last.fm, Deezer and GetSongBPM. The Spotify client
id/secret and the Last.fm and GetSongBPM keys are generated per run with ``secrets``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, Self, TypeVar

from aiohttp import web

from enrichment_sandbox.catalogue import Catalogue, load_catalogue
from enrichment_sandbox.controls import Controls
from enrichment_sandbox.deezer import DeezerImitation
from enrichment_sandbox.getsongbpm import GetSongBpmImitation
from enrichment_sandbox.lastfm import LastfmImitation
from enrichment_sandbox.musicbrainz import MusicBrainzImitation
from enrichment_sandbox.spotify import SpotifyImitation

ImitationT = TypeVar(
    "ImitationT",
    SpotifyImitation,
    MusicBrainzImitation,
    LastfmImitation,
    DeezerImitation,
    GetSongBpmImitation,
)
_N = TypeVar("_N", int, float)
UPSTREAMS = ("spotify", "musicbrainz", "lastfm", "deezer", "getsongbpm")
#: What ``Sandbox.settings()`` returns (and ``enrichment-sandbox`` prints), in order.
SETTING_NAMES = (
    "ENRICHMENT_SPOTIFY_API_URL",
    "ENRICHMENT_SPOTIFY_TOKEN_URL",
    "ENRICHMENT_SPOTIFY_CLIENT_ID",
    "ENRICHMENT_SPOTIFY_CLIENT_SECRET",
    "ENRICHMENT_MUSICBRAINZ_URL",
    "ENRICHMENT_LASTFM_URL",
    "ENRICHMENT_LASTFM_API_KEY",
    "ENRICHMENT_DEEZER_URL",
    "ENRICHMENT_GETSONGBPM_URL",
    "ENRICHMENT_GETSONGBPM_API_KEY",
)
SHUTDOWN_TIMEOUT = 2.0
"""Seconds a stopping server waits for in-flight requests (hanging ones end at once)."""


@dataclass(frozen=True, slots=True)
class RunningUpstream(Generic[ImitationT]):
    """One started imitation: where it listens and how to drive it."""

    imitation: ImitationT
    runner: web.AppRunner
    port: int
    host: str

    @property
    def base_url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:54321`` (API paths hang off it)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def admin_url(self) -> str:
        """The ``/_sandbox`` admin root of this imitation."""
        return f"{self.base_url}/_sandbox"

    @property
    def controls(self) -> Controls:
        """The imitation's runtime controls (faults, latency, calls, config)."""
        return self.imitation.controls


AnyUpstream = (
    RunningUpstream[SpotifyImitation]
    | RunningUpstream[MusicBrainzImitation]
    | RunningUpstream[LastfmImitation]
    | RunningUpstream[DeezerImitation]
    | RunningUpstream[GetSongBpmImitation]
)
"""Any one of the five running imitations."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: The credentials the imitations check, by the server's variable names: given to ``Sandbox``
#: (``enrichment-sandbox`` reads them from its environment), else made up per run.
CREDENTIAL_NAMES = (
    "ENRICHMENT_SPOTIFY_CLIENT_ID",
    "ENRICHMENT_SPOTIFY_CLIENT_SECRET",
    "ENRICHMENT_LASTFM_API_KEY",
    "ENRICHMENT_GETSONGBPM_API_KEY",
)


class Sandbox:
    """The five imitations, started together on loopback ports (0 = any free port)."""

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        host: str = "127.0.0.1",
        latency_ms: Mapping[str, float] | None = None,
        ports: Mapping[str, int] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        """``latency_ms`` / ``ports`` are keyed by :data:`UPSTREAMS` names.

        ``catalogue`` defaults to the bundled one (:func:`load_catalogue`). ``credentials``
        (keyed by the server's variable names, :data:`CREDENTIAL_NAMES`) are the ones the
        imitations accept; each one not given is made up for this run.
        """
        if not is_loopback(host):
            raise ValueError(f"the sandbox only listens on loopback addresses, not {host!r}")
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self.host = host
        self.latency_ms = _per_upstream("latency_ms", latency_ms)
        self.ports = _per_upstream("ports", ports)
        given = {k: v for k, v in (credentials or {}).items() if v}
        unknown = sorted(set(given) - set(CREDENTIAL_NAMES))
        if unknown:
            raise ValueError(f"unknown sandbox credentials {unknown}; known: {CREDENTIAL_NAMES}")

        def credential(name: str) -> str:
            return given.get(name) or secrets.token_hex(16)

        self.client_id = credential("ENRICHMENT_SPOTIFY_CLIENT_ID")
        self.client_secret = credential("ENRICHMENT_SPOTIFY_CLIENT_SECRET")
        self.lastfm_api_key = credential("ENRICHMENT_LASTFM_API_KEY")
        self.getsongbpm_api_key = credential("ENRICHMENT_GETSONGBPM_API_KEY")
        self._spotify: RunningUpstream[SpotifyImitation] | None = None
        self._musicbrainz: RunningUpstream[MusicBrainzImitation] | None = None
        self._lastfm: RunningUpstream[LastfmImitation] | None = None
        self._deezer: RunningUpstream[DeezerImitation] | None = None
        self._getsongbpm: RunningUpstream[GetSongBpmImitation] | None = None

    async def start(self) -> None:
        """Build and start the five apps."""
        spotify = SpotifyImitation(
            self.catalogue, client_id=self.client_id, client_secret=self.client_secret
        )
        self._spotify = await self._serve("spotify", spotify)
        self._musicbrainz = await self._serve("musicbrainz", MusicBrainzImitation(self.catalogue))
        lastfm = LastfmImitation(self.catalogue, api_key=self.lastfm_api_key)
        self._lastfm = await self._serve("lastfm", lastfm)
        self._deezer = await self._serve("deezer", DeezerImitation(self.catalogue))
        getsongbpm = GetSongBpmImitation(self.catalogue, api_key=self.getsongbpm_api_key)
        self._getsongbpm = await self._serve("getsongbpm", getsongbpm)

    async def _serve(self, name: str, imitation: ImitationT) -> RunningUpstream[ImitationT]:
        imitation.controls.set_latency(self.latency_ms.get(name, 0.0), default=True)
        runner = web.AppRunner(
            imitation.app,
            handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            access_log=None,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.ports.get(name, 0))
        await site.start()
        port = runner.addresses[0][1]
        return RunningUpstream(imitation, runner, int(port), self.host)

    async def stop(self) -> None:
        """Release hanging requests and stop every started app."""
        started: tuple[AnyUpstream | None, ...] = (
            self._spotify,
            self._musicbrainz,
            self._lastfm,
            self._deezer,
            self._getsongbpm,
        )
        for upstream in started:
            if upstream is not None:
                upstream.controls.closing.set()
                await upstream.runner.cleanup()
        self._spotify = self._musicbrainz = self._lastfm = None
        self._deezer = self._getsongbpm = None

    async def __aenter__(self) -> Self:
        """Start, stopping whatever did start if a later app fails."""
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        await self.stop()

    @property
    def spotify(self) -> RunningUpstream[SpotifyImitation]:
        """The running Spotify imitation."""
        return _running(self._spotify)

    @property
    def musicbrainz(self) -> RunningUpstream[MusicBrainzImitation]:
        """The running MusicBrainz imitation."""
        return _running(self._musicbrainz)

    @property
    def lastfm(self) -> RunningUpstream[LastfmImitation]:
        """The running Last.fm imitation."""
        return _running(self._lastfm)

    @property
    def deezer(self) -> RunningUpstream[DeezerImitation]:
        """The running Deezer imitation."""
        return _running(self._deezer)

    @property
    def getsongbpm(self) -> RunningUpstream[GetSongBpmImitation]:
        """The running GetSongBPM imitation."""
        return _running(self._getsongbpm)

    def upstreams(self) -> dict[str, AnyUpstream]:
        """The running imitations by name (in :data:`UPSTREAMS` order)."""
        return {
            "spotify": self.spotify,
            "musicbrainz": self.musicbrainz,
            "lastfm": self.lastfm,
            "deezer": self.deezer,
            "getsongbpm": self.getsongbpm,
        }

    def settings(self) -> dict[str, str]:
        """The ``ENRICHMENT_*`` settings that point the service at this sandbox (the
        names and order of :data:`SETTING_NAMES`)."""
        spotify, musicbrainz, lastfm = (
            self.spotify.base_url,
            self.musicbrainz.base_url,
            self.lastfm.base_url,
        )
        return {
            "ENRICHMENT_SPOTIFY_API_URL": f"{spotify}/v1",
            "ENRICHMENT_SPOTIFY_TOKEN_URL": f"{spotify}/api/token",
            "ENRICHMENT_SPOTIFY_CLIENT_ID": self.client_id,
            "ENRICHMENT_SPOTIFY_CLIENT_SECRET": self.client_secret,
            "ENRICHMENT_MUSICBRAINZ_URL": f"{musicbrainz}/ws/2",
            "ENRICHMENT_LASTFM_URL": f"{lastfm}/2.0/",
            "ENRICHMENT_LASTFM_API_KEY": self.lastfm_api_key,
            "ENRICHMENT_DEEZER_URL": self.deezer.base_url,
            "ENRICHMENT_GETSONGBPM_URL": f"{self.getsongbpm.base_url}/",
            "ENRICHMENT_GETSONGBPM_API_KEY": self.getsongbpm_api_key,
        }


async def read_settings(
    stdout: asyncio.StreamReader,
    *,
    exited: str = "enrichment-sandbox exited before printing its settings",
    timeout_s: float = 30.0,
) -> dict[str, str]:
    """The ``NAME=value`` lines an ``enrichment-sandbox`` process prints on start.

    Raises ``RuntimeError(exited)`` when the process closes its output first.
    """
    settings: dict[str, str] = {}
    while len(settings) < len(SETTING_NAMES):
        line = (await asyncio.wait_for(stdout.readline(), timeout_s)).decode().strip()
        if not line:
            raise RuntimeError(exited)
        name, _, value = line.partition("=")
        settings[name] = value
    return settings


def _per_upstream(option: str, values: Mapping[str, _N] | None) -> dict[str, _N]:
    unknown = set(values or {}) - set(UPSTREAMS)
    if unknown:
        raise ValueError(f"{option} keys must be among {UPSTREAMS}, not {sorted(unknown)}")
    return dict(values or {})


def _running(upstream: RunningUpstream[ImitationT] | None) -> RunningUpstream[ImitationT]:
    if upstream is None:
        raise RuntimeError("the sandbox is not running; use `async with Sandbox(...)` or start()")
    return upstream
