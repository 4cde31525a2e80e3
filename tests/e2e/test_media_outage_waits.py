"""A media bucket down for tens of seconds costs the candidate a delay, not a resend: the
voice note's update waits and is retried for minutes (not three tries in three seconds), and
the candidate's later messages wait behind it, so nothing is answered out of order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.limits import InboxLimit
from bot.sandbox.world import SAMPLES, World, eventually
from bot.telegram.dispatch import retry_delay
from storage.models import InboxStatus, InboxUpdate
from tests.helpers.s3 import new_bucket, outage, settings_of
from tests.helpers.stories import invite, start_answering

# Waits out a 20 s outage of the S3 server.
pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 20


async def test_a_voice_note_waits_out_a_bucket_outage_and_later_messages_keep_their_order(
    tmp_path: Path, s3_endpoint: str
) -> None:
    with outage(s3_endpoint) as s3:
        bucket = new_bucket(s3_endpoint)
        served = settings_of(bucket) | {"media_s3_endpoint": s3.endpoint}
        async with World(data_dir=tmp_path / "data", extra_settings=served) as w:
            jane = w.telegram.candidate(700_311, "Jane", "Doe")
            await start_answering(w, jane, await invite(w))
            intro = await jane.wait_for_message("Question 1 of 2.")
            await jane.press("Ready", intro)
            await jane.wait_for_message("Question 1 of 2:")

            s3.down()
            mark = len(jane.inbox())
            voice = await jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
            status = await jane.send_command("/status")  # sent after it: answered after it

            def row(update_id: int) -> InboxUpdate | None:
                return w.bot.uow.run_sync(lambda s, _now: s.get(InboxUpdate, update_id))

            await asyncio.sleep(OUTAGE_SECONDS)
            waiting = row(voice)
            assert waiting is not None and waiting.status == InboxStatus.PENDING
            assert waiting.last_error == "MediaUnavailable"
            assert waiting.attempts > InboxLimit.MAX_ATTEMPTS, "more tries than other errors get"
            assert jane.inbox()[mark:] == [], "no apology, no reply to the later /status yet"
            later = row(status)
            assert later is not None and later.attempts == 0, "waits behind the voice note"

            s3.up()
            got_it = await jane.wait_for_message("Got it", after=mark, timeout=60)
            await eventually(lambda: len(jane.inbox()) > mark + 1, what="the /status reply")
            replies = [m.text or "" for m in jane.inbox()[mark:]]
            assert replies[0] == got_it.text, replies
            assert not any("went wrong" in text for text in replies), replies
            done = row(voice)
            assert done is not None and done.status == InboxStatus.DONE


def test_media_outages_are_waited_out_for_minutes_other_errors_for_seconds() -> None:
    waits = [retry_delay(n, "MediaUnavailable") for n in range(1, InboxLimit.MEDIA_MAX_ATTEMPTS)]
    total = sum(w.total_seconds() for w in waits if w is not None)
    assert 180 <= total <= 600, total
    assert retry_delay(InboxLimit.MEDIA_MAX_ATTEMPTS, "MediaUnavailable") is None
    assert retry_delay(InboxLimit.MAX_ATTEMPTS, "RuntimeError") is None
    assert retry_delay(1, "RuntimeError") is not None
