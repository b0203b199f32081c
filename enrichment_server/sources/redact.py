"""Scrubbing credentials and query strings out of error texts before they go anywhere.

Error texts travel far: into answers (``errors[].message``), the database (status rows,
dead letters), logs and spans. Some of them are built from foreign text (aiohttp quotes
the full request URL in several errors; an upstream may echo a request in its error
body), and Last.fm and GetSongBPM carry their ``api_key`` in the query string. So every
text an upstream call produces passes ``redact``: each URL loses its query string,
``name=value`` pairs with a credential-like name lose their value, and every known
credential value (raw, URL-encoded, or Base64 as in Basic auth) is replaced.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Iterable, Mapping

__all__ = ["MASK", "SENSITIVE_NAME", "redact", "secrets_of"]

MASK = "<redacted>"
#: Parameter and field names whose values are credentials.
SENSITIVE_NAME = re.compile(
    r"api[_-]?key|apikey|token|secret|key|password|passwd|signature|sig|auth|credential",
    re.IGNORECASE,
)
#: A URL (scheme://...) followed by its query string, up to a quote, space or bracket.
_URL_QUERY = re.compile(r"""(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>?#]*)\?[^\s'"<>#]*""")
#: ``name=value`` where the name looks like a credential (outside URLs too).
_NAMED_VALUE = re.compile(
    r"""(\b(?:api[_-]?key|apikey|[a-z_]*token|[a-z_]*secret|key|password|sig(?:nature)?)"""
    r"""['"]?\s*[=:]\s*['"]?)([^&\s'",;)}]+)""",
    re.IGNORECASE,
)
#: Shorter values are not scrubbed by value: "a" would shred every text.
MIN_SECRET_LENGTH = 6


def secrets_of(*fields: Mapping[str, str] | None) -> list[str]:
    """Credential values in request params, form data or headers (by their names)."""
    found: list[str] = []
    for mapping in fields:
        for name, value in (mapping or {}).items():
            if not isinstance(value, str):
                continue
            if name.lower() == "authorization":
                found.extend([value, value.partition(" ")[2]])
            elif SENSITIVE_NAME.search(name):
                found.append(value)
    return [value for value in found if len(value) >= MIN_SECRET_LENGTH]


def _forms(secret: str) -> set[str]:
    """The spellings a secret may take in a text: raw, URL-encoded, and in Basic auth."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    try:
        decoded = base64.b64decode(secret, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    forms.update(part for part in decoded.split(":") if len(part) >= MIN_SECRET_LENGTH)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without query strings, credential-named values or any of ``secrets``."""
    text = _URL_QUERY.sub(lambda m: f"{m.group(1)}?{MASK}", text)
    text = _NAMED_VALUE.sub(lambda m: f"{m.group(1)}{MASK}", text)
    forms = set().union(*(_forms(s) for s in secrets if len(s) >= MIN_SECRET_LENGTH))
    # Longest first: a secret containing another must be replaced whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
