"""Logs (and, later, metrics and traces) configured once at start."""
