"""Local imitations of the Spotify, MusicBrainz and Last.fm APIs (never imported by the server).

Entry points: :class:`enrichment_sandbox.runner.Sandbox` in-process, the
``enrichment-sandbox`` console script (``__main__.py``) out of process. Runtime control
lives in ``controls.py`` and the ``/_sandbox/`` admin routes (``admin.py``).
"""
