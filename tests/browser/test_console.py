"""The operator console in a real browser (headless Chromium via Playwright): sign-in,
a breaker seen opening live and reset from the page, a parked dead letter replayed, a key
set and shown masked, a track found and re-enriched, forged and session-less requests
refused."""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiohttp
import sqlalchemy as sa
from playwright.async_api import Browser, Page, expect

from enrichment_sandbox.controls import FaultRule
from tests.browser.conftest import TOKEN, Console, sign_in

ENRICH = {"artist_name": "deadmau5", "track_title": "Strobe", "track_id": "strobe-1"}
SAMPLE = (
    ("deadmau5", "Strobe"),
    ("Röyksopp", "Eple"),
    ("Eric Prydz", "Opus"),
    ("Daft Punk", "One More Time"),
)
LIVE_TIMEOUT_MS = 20_000  # the page polls every 2 s; generous for a busy machine


async def post_json(console: Console, path: str, body: Mapping[str, object]) -> int:
    """POST JSON to the HTTP port (as a caller would), returning the status."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(console.base + path, json=body) as response,
    ):
        return response.status


def breaker_states(console: Console) -> dict[str, str]:
    """Each source's breaker state on the server."""
    assert console.app.shared is not None
    return {str(k): str(v) for k, v in console.app.shared.registry.states().items()}


async def test_sign_in_shows_the_overview(page: Page, console: Console) -> None:
    """The token signs in; the overview shows readiness, every source and the chart."""
    for artist, title in (*SAMPLE, ("Unknown Artist", "Strobe")):
        await post_json(console, "/enrich", {"artist_name": artist, "track_title": title})
    await sign_in(page, console)
    await expect(page.locator("h1")).to_have_text("Overview")
    await expect(page.locator('[data-bind="health.status"]')).to_have_text("healthy")
    for source in ("spotify", "musicbrainz", "lastfm", "deezer", "getsongbpm"):
        await expect(page.locator(f'[data-bind="{source}.state"]')).to_have_text("closed")
    await expect(page.locator("#throughput")).to_have_attribute("data-updated", re.compile(r"\d+"))
    await console.screenshot(page, "overview")


async def test_a_wrong_token_is_refused(page: Page, console: Console) -> None:
    """A wrong token keeps the operator on the sign-in form with a message."""
    await sign_in(page, console, token="not-the-token")
    await expect(page.locator("#sign-in-error")).to_have_text("Wrong token.")
    await page.goto(console.base + "/console/settings")
    await expect(page.locator("h1")).to_have_text("Sign in")


async def test_a_breaker_opens_on_the_page_and_resets_from_it(page: Page, console: Console) -> None:
    """The sandbox fails Spotify: the open breaker appears without a reload; Reset closes it."""
    await sign_in(page, console)
    await page.evaluate("window.loadedOnce = true")
    console.sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500))
    for n in range(2):
        await post_json(console, "/enrich", {**ENRICH, "track_id": f"strobe-{n}"})
    state = page.locator('[data-bind="spotify.state"]')
    await expect(state).to_have_text("open", timeout=LIVE_TIMEOUT_MS)
    await expect(page.locator('[data-bind="health.status"]')).to_have_text("degraded")
    assert await page.evaluate("window.loadedOnce") is True  # no reload happened
    await console.screenshot(page, "breaker-open")
    console.sandbox.spotify.controls.faults.clear()
    await page.click("#reset-spotify button")
    await expect(page.locator("#flash")).to_contain_text("spotify: open -> closed")
    await expect(state).to_have_text("closed")
    assert breaker_states(console)["spotify"] == "closed"


async def test_a_parked_dead_letter_is_replayed(page: Page, console: Console) -> None:
    """A track that failed everywhere parks; selecting it and "Replay selected" makes it due."""
    for upstream in console.sandbox.upstreams().values():
        upstream.controls.faults.add(FaultRule(kind="status", status=503))
    await post_json(console, "/enrich", {**ENRICH, "track_id": "parked-1"})
    for upstream in console.sandbox.upstreams().values():
        upstream.controls.faults.clear()
    await sign_in(page, console)
    await page.goto(console.base + "/console/dead-letters?state=parked")
    row = page.locator("#dead-letters tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("parked-1")
    await expect(row).to_contain_text("spotify")
    await console.screenshot(page, "dead-letters")
    await row.locator("input[type=checkbox]").check()
    await page.click("#selection button:has-text('Replay selected')")
    await expect(page.locator("#flash")).to_contain_text("1 dead letter(s) replayed")
    assert console.app.store is not None
    entries, _ = await console.app.store.list_dead_letters(state="due")
    assert [(e.track_id, e.attempts) for e in entries] == [("parked-1", 0)]


async def test_purge_asks_for_confirmation(page: Page, console: Console) -> None:
    """ "Purge all parked…" shows how many first; only the confirmation deletes."""
    for upstream in console.sandbox.upstreams().values():
        upstream.controls.faults.add(FaultRule(kind="status", status=503))
    await post_json(console, "/enrich", {**ENRICH, "track_id": "parked-2"})
    await sign_in(page, console)
    await page.goto(console.base + "/console/dead-letters")
    await page.click("button:has-text('Purge all parked')")
    await expect(page.locator("#confirm-text")).to_contain_text("Delete 1 dead letter(s)")
    assert console.app.store is not None
    assert (await console.app.store.stats()).dead_letters_parked == 1
    await page.click("#confirm-purge button")
    await expect(page.locator("#flash")).to_contain_text("1 dead letter(s) purged")
    assert (await console.app.store.stats()).dead_letters_parked == 0


async def test_a_key_set_on_the_page_is_masked_everywhere(page: Page, console: Console) -> None:
    """The value is shown masked with its set time, absent from the page and the database
    in clear, and the "test" button calls the upstream with it."""
    key = console.sandbox.lastfm_api_key
    await sign_in(page, console)
    await page.goto(console.base + "/console/settings")
    await page.select_option("#set-credential select", "lastfm/api_key")
    await page.fill("#set-credential input[name=value]", key)
    await page.click("#set-credential button")
    await expect(page.locator("#flash")).to_contain_text("lastfm/api_key set")
    row = page.locator("#credentials tbody tr")
    await expect(row).to_contain_text("****" + key[-4:])
    await expect(row).to_contain_text("UTC")
    assert key not in await page.content()
    assert console.app.store is not None
    async with console.app.store.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM api_credentials"))).all()
    assert len(rows) == 1
    assert key.encode() not in repr(rows).encode()
    assert all(key not in str(value) for value in rows[0])
    await console.screenshot(page, "settings")
    await page.click("#test-lastfm button")
    await expect(page.locator("#flash")).to_contain_text("lastfm: ok")


async def test_a_track_is_found_and_re_enriched(page: Page, console: Console) -> None:
    """Search finds the track; its fields show their source and the match confidence;
    "Re-enrich now" asks the upstreams again (the cache is bypassed)."""
    await post_json(console, "/enrich", ENRICH)
    await sign_in(page, console)
    await page.goto(console.base + "/console/tracks")
    await page.fill("#search input[name=q]", "deadm")
    await page.click("#search button")
    await page.click("#results a:has-text('strobe-1')")
    bpm = page.locator("#fields").get_by_role("row", name=re.compile(r"^bpm "))
    await expect(bpm).to_have_text(re.compile(r"bpm\s*128\.0\s*deezer"))
    await expect(page.locator("#confidence")).to_have_text("1.00")
    await console.screenshot(page, "track")
    calls = sum(console.sandbox.spotify.controls.calls.values())
    await page.click("#re-enrich button")
    await expect(page.locator("#flash")).to_contain_text("re-enriched: completed")
    assert sum(console.sandbox.spotify.controls.calls.values()) > calls


async def test_a_forged_post_without_the_csrf_token_is_refused(
    page: Page, console: Console
) -> None:
    """Signed in, a POST without (or with a wrong) CSRF token is 403 and changes nothing."""
    await sign_in(page, console)
    console.sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500))
    for n in range(2):
        await post_json(console, "/enrich", {**ENRICH, "track_id": f"forged-{n}"})
    reset = console.base + "/console/breakers/spotify/reset"
    refused = await page.request.post(reset, form={"source": "spotify"})
    assert refused.status == 403
    wrong = await page.request.post(reset, form={"csrf": "guess"})
    assert wrong.status == 403
    assert breaker_states(console)["spotify"] == "open"


async def test_pages_without_a_session_are_refused(browser: Browser, console: Console) -> None:
    """No session: every page sends the browser to sign in, the JSON and actions refuse."""
    context = await browser.new_context()
    page = await context.new_page()
    for path in ("/console/", "/console/dead-letters", "/console/tracks", "/console/settings"):
        await page.goto(console.base + path)
        await expect(page.locator("h1")).to_have_text("Sign in")
    api = await page.request.get(console.base + "/console/api/overview")
    assert api.status == 401
    action = await page.request.post(console.base + "/console/dead-letters/replay")
    assert action.status == 403
    await context.close()


async def test_sign_out_ends_the_session(page: Page, console: Console) -> None:
    """After "Sign out" the old cookie opens nothing."""
    await sign_in(page, console)
    await page.click("#sign-out button")
    await expect(page.locator("h1")).to_have_text("Sign in")
    await page.goto(console.base + "/console/settings")
    await expect(page.locator("h1")).to_have_text("Sign in")
    assert TOKEN not in await page.content()


async def test_why_this_match_shows_every_candidate_and_the_threshold(
    page: Page, console: Console
) -> None:
    """From a track, "Why this match?" lists each source's candidates with their scores,
    the taken one marked; a wrong artist shows candidates below the threshold."""
    await post_json(console, "/enrich", ENRICH)
    await sign_in(page, console)
    await page.goto(console.base + "/console/tracks/strobe-1")
    await page.click("#why")
    await expect(page.locator("#threshold")).to_have_text("0.82")
    spotify = page.locator("#why-spotify")
    await expect(spotify.locator(".verdict")).to_contain_text("taken: deadmau5 - Strobe")
    await expect(spotify).to_contain_text("from the cache")
    await expect(spotify.locator("tbody tr").first).to_contain_text("41Xji81wFy3cM7ggbGczQW")
    await console.screenshot(page, "why")
    await page.fill("#why-form input[name=track_id]", "")
    await page.fill("#why-form input[name=artist]", "Unknown Artist")
    await page.fill("#why-form input[name=title]", "Strobe")
    await page.click("#why-form button")
    await expect(spotify.locator(".verdict")).to_contain_text("none taken")


async def test_dead_letters_filter_page_and_replay_all_parked(page: Page, console: Console) -> None:
    """Filter by source, one entry per page with a working "Next page", then "Replay all
    parked" makes every parked entry due (the second track met open breakers, our own
    refusal: it is due, not parked)."""
    for upstream in console.sandbox.upstreams().values():
        upstream.controls.faults.add(FaultRule(kind="status", status=503))
    for n in range(2):
        await post_json(console, "/enrich", {**ENRICH, "track_id": f"parked-{n}"})
    await sign_in(page, console)
    await page.goto(console.base + "/console/dead-letters")
    await page.select_option("#filter select[name=source]", "deezer")
    await page.fill("#filter input[name=page_size]", "1")
    await page.click("#filter button")
    rows = page.locator("#dead-letters tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("parked-0")
    await page.click("#next-page")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("parked-1")
    await expect(page.locator("#next-page")).to_have_count(0)
    assert console.app.store is not None
    before = await console.app.store.stats()
    await page.click("button:has-text('Replay all parked')")
    replayed = f"{before.dead_letters_parked} dead letter(s) replayed"
    await expect(page.locator("#flash")).to_contain_text(replayed)
    stats = await console.app.store.stats()
    assert before.dead_letters_parked >= 1
    assert (stats.dead_letters_due, stats.dead_letters_parked) == (2, 0)
