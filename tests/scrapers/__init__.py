"""Tests of the Scrapy project in ``scrapers/``."""
