"""The console's routes and handlers (security: ``guard``/``auth``; HTML: ``pages``/``panels``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from enrichment_server.api.console import html, pages, panels, why
from enrichment_server.api.console.actions import ActionRefused, Operator, credential_names
from enrichment_server.api.console.auth import COOKIE, Session, same_secret
from enrichment_server.api.console.guard import Guard, redirect
from enrichment_server.api.console.sampler import Sampler
from enrichment_server.api.console.views import ConsoleData, effective_settings
from enrichment_server.api.http import HttpBackends, peer
from enrichment_server.api.http_seed import SeedEndpoints
from enrichment_server.domain import Source

STATIC_DIR = Path(__file__).with_name("static")
PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


class Console:
    """The operator console, installed on the HTTP port's application."""

    def __init__(
        self,
        backends: HttpBackends,
        endpoints: SeedEndpoints,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = backends.settings
        self._b = backends
        self.guard = Guard(
            settings.admin_token.get_secret_value(),
            settings.console_session_s,
            secure_cookie=bool(settings.tls_cert_file),
            clock=clock,
        )
        self.sampler = Sampler(backends.metrics)
        self._data = ConsoleData(backends, endpoints, self.sampler)
        self._purge = self.guard.action("purge", self.purge_confirmed, "/console/dead-letters")
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def install(self, app: web.Application) -> None:
        """Add the routes and the sampler's lifecycle to ``app``."""
        page, act = self.guard.page, self.guard.action
        add_get, add_post = app.router.add_get, app.router.add_post
        add_get("/", self.root)
        add_get("/console", self.root)
        add_get("/console/sign-in", self.sign_in_form)
        add_post("/console/sign-in", self.sign_in)
        add_post("/console/sign-out", act("sign_out", self.sign_out, "/console/sign-in"))
        add_get("/console/", page(self.overview))
        add_get("/console/api/overview", self.overview_json)
        add_get("/console/dead-letters", page(self.dead_letters))
        add_post(
            "/console/dead-letters/replay", act("replay", self.replay, "/console/dead-letters")
        )
        add_post("/console/dead-letters/purge", self.purge)
        add_get("/console/tracks", page(self.tracks))
        add_get("/console/tracks/{track_id}", page(self.track))
        add_post("/console/tracks/{track_id}/re-enrich", act("re_enrich", self.re_enrich, _track))
        add_get("/console/why", page(self.why))
        add_get("/console/settings", page(self.settings))
        add_post("/console/settings/credentials", act("set_credential", self.set_key, _settings))
        add_post("/console/settings/test", act("test_source", self.test_source, _settings))
        add_post("/console/breakers/{source}/reset", act("reset_breaker", self.reset))
        app.router.add_static("/console/static", STATIC_DIR)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._cleanup)

    async def _start(self, app: web.Application) -> None:
        self.sampler.sample()
        self._task = asyncio.create_task(self.sampler.run(self._stop))

    async def _cleanup(self, app: web.Application) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    def _html(
        self, title: str, body: str, session: Session | None, active: str = ""
    ) -> web.Response:
        document = html.page(title, body, session, active)
        return web.Response(text=document, content_type="text/html")

    def _operator(self, request: web.Request) -> Operator:
        return Operator(self._b, peer(request))

    # --- signing in and out -------------------------------------------------------------

    async def root(self, request: web.Request) -> web.StreamResponse:
        """``/``: the overview (or the sign-in form)."""
        return redirect("/console/")

    async def sign_in_form(self, request: web.Request) -> web.StreamResponse:
        """The form, on an anonymous session that carries its CSRF token."""
        if not self.guard.token:
            return self.guard.disabled()
        session = self.guard.session(request)
        if session is not None and session.signed_in:
            return redirect("/console/")
        session = session or self.guard.sessions.anonymous()
        response = self._html("Sign in", pages.sign_in(session), session)
        return self.guard.with_cookie(response, session)

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        """Check the token (throttled, constant time); a new signed-in session on success."""
        guard, client = self.guard, request.remote or "unknown"
        if not guard.token:
            return guard.disabled()
        session, form = guard.session(request), await request.post()
        if session is None or not guard.csrf_ok(session, form, request):
            guard.audit(request, session, "sign_in", outcome="refused: no CSRF token")
            return web.Response(status=403, text="refused: reload the sign-in form")
        wait = guard.throttle.wait_s(client)
        if wait > 0:
            guard.audit(request, session, "sign_in", outcome="throttled")
            message = f"Too many failed sign-ins: try again in {wait:.0f} s."
            return self._refused(session, message, 429)
        if not same_secret(str(form.get("token", "")), guard.token):
            guard.throttle.failed(client)
            guard.audit(request, session, "sign_in", outcome="wrong token")
            return self._refused(session, "Wrong token.", 401)
        guard.throttle.succeeded(client)
        signed_in = guard.sessions.sign_in(session)
        guard.audit(request, signed_in, "sign_in", outcome="done")
        return guard.with_cookie(redirect("/console/"), signed_in)

    def _refused(self, session: Session, message: str, status: int) -> web.Response:
        response = self._html("Sign in", pages.sign_in(session, message), session)
        response.set_status(status)
        return response

    async def sign_out(self, request: web.Request, session: Session, form: Any) -> str:
        """End the session here (the cookie then names nothing)."""
        self.guard.sessions.end(session)
        return "signed out"

    # --- overview -----------------------------------------------------------------------

    async def overview(self, request: web.Request, session: Session) -> web.StreamResponse:
        """Readiness, sources, cache, statuses, coverage, dead letters, the chart."""
        body = pages.overview(await self._data.overview(), session)
        return self._html("Overview", body, session, "/console/")

    async def overview_json(self, request: web.Request) -> web.StreamResponse:
        """The overview's numbers for ``console.js`` (signed-in sessions only)."""
        session = self.guard.session(request)
        if not self.guard.token or session is None or not session.signed_in:
            return web.json_response({"error": "sign in first"}, status=401)
        return web.json_response(await self._data.overview())

    async def reset(self, request: web.Request, session: Session, form: Any) -> str:
        """Reset a breaker (the admin RPC)."""
        return await self._operator(request).reset(request.match_info["source"])

    # --- dead letters -------------------------------------------------------------------

    async def dead_letters(self, request: web.Request, session: Session) -> web.StreamResponse:
        """Filtered, paged dead letters (``page_size`` 1-200, default 25)."""
        query = request.query
        filters = {
            "source": query.get("source", "") if query.get("source") in set(Source) else "",
            "state": query.get("state", "") if query.get("state") in ("due", "parked") else "",
            "page_size": str(_page_size(query.get("page_size", ""))),
        }
        try:
            entries, token = await self._b.store.list_dead_letters(
                filters["source"] or None,
                None,
                filters["state"] or None,
                int(filters["page_size"]),
                query.get("page_token") or None,
            )
        except ValueError as exc:
            session.flash.append(str(exc))
            entries, token = [], None
        body = pages.dead_letters(entries, filters, token, session, sorted(Source))
        return self._html("Dead letters", body, session, "/console/dead-letters")

    async def replay(self, request: web.Request, session: Session, form: Any) -> str:
        """Replay the selected entries, or every parked one."""
        ids, all_parked = _ids(form), form.get("all_parked") == "1"
        if not ids and not all_parked:
            raise ActionRefused("select dead letters first")
        return await self._operator(request).replay(ids, all_parked)

    async def purge(self, request: web.Request) -> web.StreamResponse:
        """Purge in two steps: a confirmation page naming the count, then the deletion."""
        form = await request.post()
        if form.get("confirm") == "yes":
            return await self._purge(request)
        session = await self.guard.admit(request, "purge_confirmation")
        if isinstance(session, web.Response):
            return session
        ids, state = _ids(form), str(form.get("state", "")) or None
        if not ids and state not in ("due", "parked"):
            session.flash.append("select dead letters first")
            return redirect("/console/dead-letters")
        count = len(ids) if ids else await self._count(state)
        fields = {"state": state} if state and not ids else {}
        body = pages.confirm_purge(count, fields, ids, session)
        return self._html("Purge dead letters?", body, session, "/console/dead-letters")

    async def _count(self, state: str | None) -> int:
        stats = await self._b.store.stats()
        return stats.dead_letters_parked if state == "parked" else stats.dead_letters_due

    async def purge_confirmed(self, request: web.Request, session: Session, form: Any) -> str:
        """The confirmed deletion."""
        ids, state = _ids(form), str(form.get("state", "")) or None
        if not ids and state not in ("due", "parked"):
            raise ActionRefused("select dead letters first")
        return await self._operator(request).purge(ids, state)

    # --- tracks -------------------------------------------------------------------------

    async def tracks(self, request: web.Request, session: Session) -> web.StreamResponse:
        """Search by artist, title or track id."""
        query = request.query.get("q", "").strip()
        found = await self._b.store.search_tracks(query) if query else []
        return self._html("Tracks", panels.tracks(query, found), session, "/console/tracks")

    async def track(self, request: web.Request, session: Session) -> web.StreamResponse:
        """One track's fields with provenance and confidence."""
        detail = await self._b.store.track_detail(request.match_info["track_id"])
        if detail is None:
            response = self._html("No such track", "<p>No such track.</p>", session)
            response.set_status(404)
            return response
        return self._html("Track", panels.track(detail, session), session, "/console/tracks")

    async def re_enrich(self, request: web.Request, session: Session, form: Any) -> str:
        """Enrich again now, cache bypassed (``force_refresh``)."""
        answer = await self._operator(request).re_enrich(request.match_info["track_id"])
        return (
            f"re-enriched: {answer['status']} ({answer['enrichment_status']}) from "
            f"{', '.join(answer['sources_used']) or 'no source'} in {answer['duration_seconds']} s"
        )

    async def why(self, request: web.Request, session: Session) -> web.StreamResponse:
        """Why this match: ``ExplainMatch`` for a track id, or an artist and title."""
        query = request.query
        track_id, artist, title = (
            query.get(k, "").strip() for k in ("track_id", "artist", "title")
        )
        body = why.form(track_id, artist, title)
        if track_id or artist or title:
            try:
                answer = await self._operator(request).explain(track_id, artist, title)
                body += why.explanation(answer)
            except ActionRefused as exc:
                body += f'<p class="error" id="why-error">{html.esc(exc)}</p>'
        return self._html("Why this match", body, session, "/console/why")

    # --- settings -----------------------------------------------------------------------

    async def settings(self, request: web.Request, session: Session) -> web.StreamResponse:
        """Keys masked with their set time, set/rotate, test, effective settings."""
        settings = self._b.settings
        body = panels.settings(
            await self._b.store.list_credentials(),
            credential_names(),
            effective_settings(settings),
            session,
            can_store=bool(settings.secret_key.get_secret_value()),
        )
        return self._html("Settings", body, session, "/console/settings")

    async def set_key(self, request: web.Request, session: Session, form: Any) -> str:
        """Store or rotate one key (the value is never sent back)."""
        source, _, name = str(form.get("credential", "")).partition("/")
        value = str(form.get("value", ""))
        if (source, name) not in credential_names() or not value:
            raise ActionRefused("choose a key and type its value")
        return await self._operator(request).set_credential(source, name, value)

    async def test_source(self, request: web.Request, session: Session, form: Any) -> str:
        """One cheap call to the upstream with the keys in use."""
        return await self._operator(request).test_source(str(form.get("source", "")))


def _page_size(text: str) -> int:
    return max(1, min(MAX_PAGE_SIZE, int(text))) if text.isdigit() else PAGE_SIZE


def _ids(form: MultiDictProxy[Any]) -> list[int]:
    return [int(v) for v in form.getall("ids", []) if str(v).isdigit()]


def _track(request: web.Request) -> str:
    return f"/console/tracks/{quote(request.match_info['track_id'], safe='')}"


def _dead_letters(request: web.Request) -> str:
    return "/console/dead-letters"


def _settings(request: web.Request) -> str:
    return "/console/settings"


__all__ = ["COOKIE", "Console"]
