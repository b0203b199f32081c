"""The upstream credentials in force, and the service that changes them at run time.

Stored credentials (encrypted with ``ENRICHMENT_SECRET_KEY``, set by an operator through
``SetCredential``) win over the environment's. ``CredentialService`` loads them at start,
stores new ones, and picks up those another replica stored (``refresh``, called by the
maintenance loop); whenever the set in force changes it calls ``on_change`` so the
composition root rebuilds the source clients (breakers, limiters and budgets are kept),
and makes the tracks a changed credential had refused due for re-enrichment (at start
too, for a credential fixed in the environment).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import structlog

from enrichment_server.config import Settings
from enrichment_server.crypto import CredentialCipher, DecryptionFailed, credential_fingerprint
from enrichment_server.domain import Source
from enrichment_server.store import MaskedCredential, Store

__all__ = ["CredentialService", "Credentials", "CredentialsUnreadable"]

log = structlog.get_logger(__name__)


class CredentialsUnreadable(Exception):
    """The database holds encrypted credentials and no key was given to read them."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """The upstream credentials in force (stored ones over the environment's)."""

    spotify_client_id: str = ""
    spotify_client_secret: str = ""
    lastfm_api_key: str = ""
    getsongbpm_api_key: str = ""

    #: (source, name) of each field, as SetCredential names them.
    FIELDS: ClassVar[dict[tuple[str, str], str]] = {
        ("spotify", "client_id"): "spotify_client_id",
        ("spotify", "client_secret"): "spotify_client_secret",
        ("lastfm", "api_key"): "lastfm_api_key",
        ("getsongbpm", "api_key"): "getsongbpm_api_key",
    }

    @classmethod
    def resolve(cls, settings: Settings, stored: Mapping[tuple[str, str], str]) -> Credentials:
        """Environment values, overridden by stored ones."""
        env = {
            "spotify_client_id": settings.spotify_client_id,
            "spotify_client_secret": settings.spotify_client_secret.get_secret_value(),
            "lastfm_api_key": settings.lastfm_api_key.get_secret_value(),
            "getsongbpm_api_key": settings.getsongbpm_api_key.get_secret_value(),
        }
        for key, field_name in cls.FIELDS.items():
            if stored.get(key):
                env[field_name] = stored[key]
        return cls(**env)

    def fingerprints(self) -> dict[str, str]:
        """Each source with a credential -> its fingerprint, as the source clients compute
        it (``crypto.credential_fingerprint`` over the values in the order they are sent)."""
        values = {
            "spotify": (self.spotify_client_id, self.spotify_client_secret),
            "lastfm": (self.lastfm_api_key,),
            "getsongbpm": (self.getsongbpm_api_key,),
        }
        return {
            source: credential_fingerprint(source, *parts)
            for source, parts in values.items()
            if all(parts)
        }


OnChange = Callable[[Credentials], Awaitable[None]]


class CredentialService:
    """Loads, stores and refreshes the credentials in force; reports changes to ``on_change``."""

    def __init__(self, settings: Settings, store: Store) -> None:
        key = settings.secret_key.get_secret_value()
        self._settings = settings
        self._store = store
        self._cipher = CredentialCipher.from_key(key) if key else None
        self._on_change: OnChange | None = None
        self.current = Credentials.resolve(settings, {})

    async def load(self) -> Credentials:
        """The credentials in force at start; ``CredentialsUnreadable`` without the key."""
        if self._cipher is None:
            if await self._store.has_credentials():
                raise CredentialsUnreadable(
                    "the database holds encrypted credentials but ENRICHMENT_SECRET_KEY is "
                    "not set: set the key they were stored with (there is no default key)"
                )
            await self._reenrich_refused()
            return self.current
        try:
            stored = await self._store.load_credentials(self._cipher)
        except DecryptionFailed:
            raise CredentialsUnreadable(
                "ENRICHMENT_SECRET_KEY does not open the credentials stored in the database: "
                "set the key they were stored with (or delete them and store them again)"
            ) from None
        self.current = Credentials.resolve(self._settings, stored)
        await self._reenrich_refused()
        return self.current

    async def _reenrich_refused(self) -> None:
        """Tracks refused by a credential other than today's are made due for re-enrichment
        (at start: a key fixed in the environment; on a change: a key set at run time)."""
        due = await self._store.reschedule_refused(
            self.current.fingerprints(), now=datetime.now(UTC)
        )
        if due:
            log.info("refused_tracks_rescheduled", tracks=due)

    def on_change(self, callback: OnChange) -> None:
        """Call ``callback`` with the new credentials whenever the set in force changes."""
        self._on_change = callback

    async def set_credential(self, source: Source, name: str, value: str) -> MaskedCredential:
        """Encrypt and store a credential, then put it into effect."""
        if (str(source), name) not in Credentials.FIELDS:
            known = sorted(f"{s}/{n}" for s, n in Credentials.FIELDS)
            raise ValueError(f"unknown credential {source}/{name}; known: {known}")
        if self._cipher is None:
            raise ValueError("credentials cannot be stored: set ENRICHMENT_SECRET_KEY")
        await self._store.set_credential(
            str(source), name, value, self._cipher, now=datetime.now(UTC)
        )
        await self.refresh()
        listed = await self._store.list_credentials()
        return next(c for c in listed if (c.source, c.name) == (str(source), name))

    async def refresh(self) -> None:
        """Re-read the stored credentials (another replica may have set one) and apply them."""
        if self._cipher is None:
            return
        resolved = Credentials.resolve(
            self._settings, await self._store.load_credentials(self._cipher)
        )
        if resolved == self.current:
            return
        self.current = resolved
        if self._on_change is not None:
            await self._on_change(resolved)
        await self._reenrich_refused()
