"""The share page in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
it loads under its Content-Security-Policy, the recording plays, a vote sent from the page
reaches the Slack emulator's thread, and an expired or revoked link shows the clear page with
no data. A screenshot of the page is saved in the test's tmp dir, and in
``$HIREBOT_SCREENSHOTS`` when that is set, for a reviewer to look at.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.flows import sharing
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, SimulatedClock, World
from storage.models import ShareLink
from tests.helpers.sharing import answered, make_link, thread_text
from tests.helpers.slack import card, db

CHROMIUM = Path(os.environ.get("HIREBOT_CHROMIUM", "/usr/bin/chromium"))
HAVE_ENOUGH_DATA = 4
# Generous: the machine may be busy with other tests (and Chromium with transcoding).
WAIT_MS = 90_000

if not CHROMIUM.exists():
    why = f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does)"
    if os.environ.get("HIREBOT_REQUIRE_BROWSER"):  # CI: a missing browser fails, never skips
        pytest.fail(why, pytrace=False)
    pytest.skip(why, allow_module_level=True)
playwright = pytest.importorskip(
    "playwright.async_api", reason="Playwright is not installed: pip install 'hirebot[dev]'"
)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright.async_playwright() as driver:
        launched = await driver.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Root in a container has no user namespaces for Chromium's sandbox; the page is
            # our own, served from 127.0.0.1. Autoplay: the test presses play without a hand.
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        await launched.close()


def keep_screenshot(shot: Path) -> None:
    folder = os.environ.get("HIREBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / shot.name)


async def test_the_page_loads_plays_the_answer_and_takes_a_vote(
    tmp_path: Path, browser: Any
) -> None:
    async with World(data_dir=tmp_path / "world") as w:
        await answered(w, 'Jane "<b>JD</b>" Doe')
        address = await make_link(w, holder="Dana Lee")
        page = await browser.new_page()
        page.set_default_timeout(WAIT_MS)
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)

        loaded = await page.goto(address)
        assert loaded is not None and loaded.status == 200
        assert await page.title() == 'Jane "<b>JD</b>" Doe · Backend Engineer'
        assert await page.locator("h1").inner_text() == 'Jane "<b>JD</b>" Doe'
        assert await page.locator("section.answer").count() == 2
        # The stylesheet loaded under the CSP (the page is laid out, not bare HTML).
        width = await page.locator("main").evaluate("m => getComputedStyle(m).maxWidth")
        assert width != "none"

        audio = page.locator("audio").first
        # Functions run through the DevTools protocol; a string predicate would be eval'd in
        # the page, which its CSP (rightly) refuses.
        await audio.evaluate("a => a.play()")
        enough = audio.evaluate(
            "a => new Promise(done => a.readyState >= 4 ? done() :"
            " a.addEventListener('canplaythrough', done, {once: true}))"
        )
        await asyncio.wait_for(enough, WAIT_MS / 1000)
        assert await audio.evaluate("a => a.readyState") == HAVE_ENOUGH_DATA
        assert await audio.evaluate("a => a.duration") > 1
        # Seeking asks for a range: the player can jump to the moment.
        seek = audio.evaluate(
            "a => new Promise(done => { a.pause();"
            " a.addEventListener('seeked', () => done(a.currentTime), {once: true});"
            " a.currentTime = a.duration / 2; })"
        )
        middle = await asyncio.wait_for(seek, WAIT_MS / 1000)
        assert middle > 1
        assert not [m for m in refused if "Content Security Policy" in m], refused

        shot = tmp_path / "share-page.png"
        await page.screenshot(path=str(shot), full_page=True)
        keep_screenshot(shot)

        await page.locator("input[value=yes]").check()
        await page.locator("textarea#note").fill("Clear <i>thinker</i>; would hire.")
        await page.locator("button[type=submit]").click()
        await page.wait_for_url("**?voted=yes")
        assert "is in the hiring team's thread" in await page.locator(".notice").inner_text()

        parent = await card(w)
        note = await thread_text(w, parent.ts, REVIEW_CHANNEL, "voted *Yes*")
        assert note == (
            f"🔗 *Dana Lee* (share link from <@{RECRUITER}>) voted *Yes*.\n"
            "> Clear &lt;i&gt;thinker&lt;/i&gt;; would hire."
        )


async def test_an_expired_or_revoked_link_shows_the_clear_page_with_no_data(
    tmp_path: Path, browser: Any
) -> None:
    clock = SimulatedClock()
    async with World(data_dir=tmp_path / "world", clock=clock) as w:
        await answered(w)
        revoked = await make_link(w, holder="Revoked Reader")
        expiring = await make_link(w, holder="Late Reader")
        link_id = db(w, lambda s: s.exec(select(ShareLink.id).order_by(col(ShareLink.id))).first())
        assert link_id is not None
        await w.bot.uow.run(
            lambda s, now: sharing.revoke(s, link_id=link_id, by=RECRUITER, recruiter=True, now=now)
        )
        clock.advance(days=7, seconds=1)
        page = await browser.new_page()
        bodies = []
        for address in (revoked, expiring):
            shown = await page.goto(address)
            assert shown is not None and shown.status == 404
            assert await page.locator("h1").inner_text() == "This link is not available"
            body = await page.locator("body").inner_text()
            assert "Jane" not in body and "Q1" not in body and "Reader" not in body
            assert await page.locator("audio, video, form").count() == 0
            bodies.append(await page.content())
        assert bodies[0] == bodies[1]  # the same page whatever ended it
        shot = tmp_path / "share-page-unavailable.png"
        await page.screenshot(path=str(shot))
        keep_screenshot(shot)
