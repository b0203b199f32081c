"""The console's door: sessions in cookies, sign-in required, CSRF checked, actions audited.

``page(render)`` wraps a GET page (no admin token: the "how to enable" page; no session:
303 to the sign-in form). ``action(name, act)`` wraps a POST: a signed-in session and its
CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) or 403; the action's sentence
becomes a flash message, one ``console_action`` audit line records who did what and how it
ended (never a secret: credential values and tokens are never among ``target``), and the
browser is sent back with 303 (post/redirect/get).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from multidict import MultiDictProxy

from enrichment_server.api.console import html, pages
from enrichment_server.api.console.actions import ActionRefused
from enrichment_server.api.console.auth import COOKIE, Session, Sessions, Throttle, same_secret

log = structlog.get_logger("enrichment.console")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Action = Callable[[web.Request, Session, MultiDictProxy[Any]], Awaitable[str]]
Back = str | Callable[[web.Request], str]
#: Form fields an audit line may name (identifiers only; never ``value``, ``token``, ``csrf``).
_AUDITED_FIELDS = ("source", "credential", "ids", "state", "all_parked")


def redirect(location: str) -> web.Response:
    """303 See Other (a POST's answer, or a page that needs a sign-in)."""
    return web.Response(status=303, headers={"Location": location})


def _target(request: web.Request, form: MultiDictProxy[Any]) -> dict[str, object]:
    """What the action was about: path parameters and the identifier fields of the form."""
    target: dict[str, object] = dict(request.match_info)
    for name in _AUDITED_FIELDS:
        values = form.getall(name, [])
        if values:
            target[name] = ",".join(str(v) for v in values)
    return target


class Guard:
    """Sessions, the sign-in throttle, and the wrappers every console route goes through."""

    def __init__(
        self,
        token: str,
        lifetime_s: float,
        secure_cookie: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.secure_cookie = secure_cookie
        self.sessions = Sessions(lifetime_s, clock)
        self.throttle = Throttle(clock)

    def session(self, request: web.Request) -> Session | None:
        """The request's live session, if its cookie names one."""
        return self.sessions.get(request.cookies.get(COOKIE))

    def with_cookie(self, response: web.Response, session: Session) -> web.Response:
        """Set the session cookie: HttpOnly, SameSite=Strict, Secure under TLS, expiring."""
        response.set_cookie(
            COOKIE,
            session.id,
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookie,
            path="/",
            max_age=int(self.sessions.lifetime_s),
        )
        return response

    def audit(
        self, request: web.Request, session: Session | None, action: str, **what: object
    ) -> None:
        """One line per operator action: who (the admin, which session, from where), what."""
        log.info(
            "console_action",
            who="admin",
            session=session.handle if session is not None else None,
            peer=request.remote,
            action=action,
            **what,
        )

    def disabled(self) -> web.Response:
        """The page shown for everything when no admin token is configured."""
        body = html.page("Console disabled", pages.disabled(), None)
        return web.Response(text=body, content_type="text/html", status=503)

    def csrf_ok(self, session: Session, form: MultiDictProxy[Any], request: web.Request) -> bool:
        """The form (or header) carries this session's CSRF token."""
        presented = str(form.get("csrf", "")) or request.headers.get("X-CSRF-Token", "")
        return same_secret(presented, session.csrf)

    def page(self, render: Page) -> Handler:
        """A GET page for signed-in operators."""

        async def handler(request: web.Request) -> web.StreamResponse:
            if not self.token:
                return self.disabled()
            session = self.session(request)
            if session is None or not session.signed_in:
                return redirect("/console/sign-in")
            return await render(request, session)

        return handler

    async def admit(self, request: web.Request, name: str) -> Session | web.Response:
        """The signed-in session of a POST carrying its CSRF token, or the refusal to send."""
        if not self.token:
            return self.disabled()
        session, form = self.session(request), await request.post()
        if session is None or not session.signed_in or not self.csrf_ok(session, form, request):
            self.audit(request, session, name, outcome="refused: no session or CSRF token")
            return web.Response(status=403, text="refused: sign in and send the CSRF token")
        return session

    def action(self, name: str, act: Action, back: Back = "/console/") -> Handler:
        """A POST action for signed-in operators carrying the CSRF token; the browser then
        goes to ``back`` (a path, or a function of the request giving one)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            session = await self.admit(request, name)
            if isinstance(session, web.Response):
                return session
            form = await request.post()  # aiohttp parses once and keeps it
            try:
                message = await act(request, session, form)
                outcome = "done"
            except ActionRefused as exc:
                message = outcome = f"refused: {exc}"
            self.audit(request, session, name, target=_target(request, form), outcome=outcome)
            session.flash.append(message)
            return redirect(back if isinstance(back, str) else back(request))

        return handler
