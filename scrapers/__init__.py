"""Tracklist scrapers: a Scrapy project whose items are enriched by the enrichment service."""
