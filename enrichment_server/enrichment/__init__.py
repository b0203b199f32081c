"""Enrichment logic: the waterfall, the matcher, the merge, musical keys, result rules."""
