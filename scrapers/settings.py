"""Scrapy settings for every tracklist spider (``SCRAPY_SETTINGS_MODULE=scrapers.settings``).

The seed's names come from the environment (as docker compose sets them) and can be
overridden per run with ``-s NAME=VALUE``: ``METADATA_ENRICHMENT_URL``,
``ENRICHMENT_TIMEOUT``, ``ENRICHMENT_FALLBACK_ENABLED`` and ``ENRICHMENT_DATABASE_URL``.
Each spider's base URL is a setting too, so tests point spiders at a local server.
"""

from __future__ import annotations

import os

BOT_NAME = "tracklist-scrapers"
SPIDER_MODULES = ["scrapers.spiders"]
NEWSPIDER_MODULE = "scrapers.spiders"

# Polite defaults: identify ourselves, obey robots.txt (API spiders switch it off for
# their API host in custom_settings), adapt the pace to the server's latency. Each HTML
# spider sets its site's own delay and concurrency in custom_settings (1001tracklists
# 3 s, MixesDB 4 s, one request at a time); these are the floor for the rest.
USER_AGENT = os.environ.get(
    "SCRAPERS_USER_AGENT",
    "tracklist-scrapers/0.1 (+https://github.com/metadata-enrichment; tracklist research bot)",
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 3
HTTPCACHE_ENABLED = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Items of one page pass the pipelines concurrently (the enrichment calls overlap).
CONCURRENT_ITEMS = 100

# grpc.aio and SQLAlchemy's asyncio drivers need the asyncio reactor.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

# SCRAPERS_LOOPBACK_ONLY=True (demo, tests) refuses any request off this machine.
SCRAPERS_LOOPBACK_ONLY = False
# A block / captcha / challenge page stops the spider (scrapers.blocking); 580: it sees
# responses before RetryMiddleware (550) retries a 429 or 503 into a deeper block.
DOWNLOADER_MIDDLEWARES = {
    "scrapers.middlewares.LoopbackOnlyMiddleware": 50,
    "scrapers.blocking.BlockedPageMiddleware": 580,
}

# `scrapy check` runs callbacks on our fixture pages (@fixture), never on the live sites.
SPIDER_CONTRACTS = {"scrapers.contracts.FixtureContract": 10}

# Every spider: enrich (thin client of the service), then persist.
ITEM_PIPELINES = {
    "scrapers.pipelines.enrichment.APIEnrichmentPipeline": 300,
    "scrapers.pipelines.persistence.PersistencePipeline": 800,
}

# The enrichment service (seed names). "http://host:port" and "host:port" both work.
METADATA_ENRICHMENT_URL = os.environ.get("METADATA_ENRICHMENT_URL", "127.0.0.1:50051")
ENRICHMENT_TIMEOUT = float(os.environ.get("ENRICHMENT_TIMEOUT", "30"))
ENRICHMENT_FALLBACK_ENABLED = os.environ.get("ENRICHMENT_FALLBACK_ENABLED", "true")
# Fallback disabled: first and longest pause between retries while the service is down.
ENRICHMENT_RETRY_INITIAL_S = float(os.environ.get("ENRICHMENT_RETRY_INITIAL_S", "0.5"))
ENRICHMENT_RETRY_MAX_S = float(os.environ.get("ENRICHMENT_RETRY_MAX_S", "10"))
# A crawl's calls are bulk work: live callers get scarce upstream quota first.
ENRICHMENT_PRIORITY = os.environ.get("ENRICHMENT_PRIORITY", "bulk")
# Enrich calls in flight at most per crawl process; the pipeline lowers it while the
# service's own quota refuses calls, so items wait here instead of being deferred.
ENRICHMENT_MAX_IN_FLIGHT = int(os.environ.get("ENRICHMENT_MAX_IN_FLIGHT", "16"))

# The database the service uses (its ENRICHMENT_DATABASE_URL semantics).
ENRICHMENT_DATABASE_URL = os.environ.get(
    "ENRICHMENT_DATABASE_URL", "sqlite+aiosqlite:///enrichment.db"
)

# One bounded pool per process, shared by every spider it runs (scrapers.dbpool): keep
# processes x SCRAPERS_DB_POOL_SIZE (+ the service's pools) below Postgres's max_connections.
SCRAPERS_DB_POOL_SIZE = int(os.environ.get("SCRAPERS_DB_POOL_SIZE", "5"))
SCRAPERS_DB_POOL_TIMEOUT_S = float(os.environ.get("SCRAPERS_DB_POOL_TIMEOUT_S", "30"))
# A write failing transiently (no connection, too many clients, lock) is tried this often.
SCRAPERS_DB_WRITE_ATTEMPTS = int(os.environ.get("SCRAPERS_DB_WRITE_ATTEMPTS", "5"))
SCRAPERS_DB_WRITE_RETRY_INITIAL_S = float(
    os.environ.get("SCRAPERS_DB_WRITE_RETRY_INITIAL_S", "0.5")
)

# Sources: base URLs (tests point them at 127.0.0.1), start points, credentials.
TRACKLISTS1001_BASE_URL = os.environ.get(
    "TRACKLISTS1001_BASE_URL", "https://www.1001tracklists.com"
)
TRACKLISTS1001_DJS = ["ericprydz"]
MIXESDB_BASE_URL = os.environ.get("MIXESDB_BASE_URL", "https://www.mixesdb.com")
MIXESDB_CATEGORIES = ["Eric Prydz"]
SETLISTFM_BASE_URL = os.environ.get("SETLISTFM_BASE_URL", "https://api.setlist.fm")
SETLISTFM_API_KEY = os.environ.get("SETLISTFM_API_KEY", "")
SETLISTFM_ARTISTS = ["Eric Prydz"]
# Reddit's OAuth API (app-only token; the public .json listings answer 403 since 2026-05).
REDDIT_BASE_URL = os.environ.get("REDDIT_BASE_URL", "https://www.reddit.com")
REDDIT_OAUTH_BASE_URL = os.environ.get("REDDIT_OAUTH_BASE_URL", "https://oauth.reddit.com")
REDDIT_CLIENT_ID = os.environ.get("REDDIT_CLIENT_ID", "")
REDDIT_CLIENT_SECRET = os.environ.get("REDDIT_CLIENT_SECRET", "")
REDDIT_SUBREDDITS = ["EricPrydz"]
REDDIT_QUERY = "tracklist"
MIXCLOUD_BASE_URL = os.environ.get("MIXCLOUD_BASE_URL", "https://api.mixcloud.com")
# Tracklists come from the website's GraphQL (the API's "sections" is not served any more).
MIXCLOUD_GRAPHQL_URL = os.environ.get("MIXCLOUD_GRAPHQL_URL", "https://app.mixcloud.com/graphql")
MIXCLOUD_USERS = ["ericprydz"]
LIVETRACKLIST_BASE_URL = os.environ.get("LIVETRACKLIST_BASE_URL", "https://www.livetracklist.com")
LIVETRACKLIST_ARTISTS = ["eric-prydz"]
# ra.co's website GraphQL endpoint (POST /graphql); RA podcasts carry tracklists.
RESIDENTADVISOR_BASE_URL = os.environ.get("RESIDENTADVISOR_BASE_URL", "https://ra.co")
# Off by default: RA's terms forbid scraping; enable only with RA's permission.
RESIDENTADVISOR_ENABLED = os.environ.get("RESIDENTADVISOR_ENABLED", "false")
RESIDENTADVISOR_PODCAST_LIMIT = 20
SOUNDCLOUD_BASE_URL = os.environ.get("SOUNDCLOUD_BASE_URL", "https://api-v2.soundcloud.com")
# Optional: read from the website's scripts when empty or refused (it rotates).
SOUNDCLOUD_CLIENT_ID = os.environ.get("SOUNDCLOUD_CLIENT_ID", "")
SOUNDCLOUD_USERS = ["ericprydz"]
YOUTUBE_BASE_URL = os.environ.get("YOUTUBE_BASE_URL", "https://www.googleapis.com")
YOUTUBE_API_KEY = os.environ.get("YOUTUBE_API_KEY", "")
YOUTUBE_QUERIES = ["Eric Prydz live set tracklist"]
# search.list has its own bucket of 100 calls a day: one result page per query by default.
YOUTUBE_MAX_SEARCH_PAGES = int(os.environ.get("YOUTUBE_MAX_SEARCH_PAGES", "1"))
SOUNDCLOUD_WEB_URL = os.environ.get("SOUNDCLOUD_WEB_URL", "https://soundcloud.com")
INTERNETARCHIVE_BASE_URL = os.environ.get("INTERNETARCHIVE_BASE_URL", "https://archive.org")
INTERNETARCHIVE_QUERIES = ['"Eric Prydz" AND mediatype:(audio)']
# Pages of search results / category listings a spider follows at most.
SCRAPERS_MAX_PAGES = int(os.environ.get("SCRAPERS_MAX_PAGES", "5"))
