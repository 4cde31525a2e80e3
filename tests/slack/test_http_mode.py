"""HTTP mode: only requests signed with our secret, and recent, reach the bot."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, World
from storage.models import Interview
from tests.helpers.slack import db


def _invite_body(w: World) -> bytes:
    return urlencode(
        {
            "command": "/hire",
            "text": "invite backend-engineer Jane Doe",
            "user_id": RECRUITER,
            "channel_id": REVIEW_CHANNEL,
            "team_id": w.slack.team_id,
            "trigger_id": w.slack.new_trigger_id(),
            "response_url": "http://127.0.0.1:9/unused",
        }
    ).encode()


async def test_forged_and_stale_signatures_are_refused_and_change_nothing(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path, slack_mode="http") as w:
        rita = w.slack.teammate(RECRUITER)
        body = _invite_body(w)
        form = {"Content-Type": "application/x-www-form-urlencoded"}

        forged = rita.signed_headers(body, secret="not-our-secret")
        status, _ = await rita.send_raw_http(body, {**form, **forged})
        assert status == 401

        stale = rita.signed_headers(body, timestamp=int(time.time()) - 10 * 60)
        status, _ = await rita.send_raw_http(body, {**form, **stale})
        assert status == 401

        status, _ = await rita.send_raw_http(body, form)  # no signature at all
        assert status == 401
        assert db(w, lambda s: s.exec(select(Interview)).all()) == []
        assert w.slack.messages(REVIEW_CHANNEL) == []

        status, raw = await rita.send_raw_http(body, {**form, **rita.signed_headers(body)})
        assert status == 200 and "Invited *Jane Doe*" in raw
        assert len(db(w, lambda s: s.exec(select(Interview)).all())) == 1
