"""Upstream providers. Only this package speaks HTTP (through ``http.Transport``)."""
