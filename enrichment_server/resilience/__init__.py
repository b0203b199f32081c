"""Resilience mechanisms for upstream calls: retry, rate limiting, request coalescing."""
