"""The operator console at ``/`` of the HTTP port (issue 18).

Sign-in with the admin token (``auth``), every route behind ``guard``, pages rendered on the
server (``pages``, ``panels``) from ``views``' data, actions through the same servicers as
grpcurl (``actions``), a small history of this process's counters (``sampler``), and plain
JavaScript in ``static/console.js`` (no library, no CDN) for the live overview.
"""

from enrichment_server.api.console.routes import Console

__all__ = ["Console"]
