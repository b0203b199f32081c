"""Background work: the dead-letter replayer and the scheduled re-enrichment."""
