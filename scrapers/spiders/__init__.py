"""The spiders; each subclasses ``scrapers.spiders.base.TracklistSpider`` (see README)."""
