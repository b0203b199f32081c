"""Alembic environment and revisions for the store (shipped inside the package)."""
