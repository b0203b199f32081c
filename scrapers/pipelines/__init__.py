"""Item pipelines: ``enrichment`` (thin client of the service), then ``persistence``."""
