"""Alembic revisions, written by hand to match ``enrichment_server.store.models``."""
