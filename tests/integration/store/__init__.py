"""Tests for enrichment_server.store, the DLQ worker, the scheduler and the cipher."""
