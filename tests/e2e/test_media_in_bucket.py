"""Media in an S3 bucket, end to end: a bot whose media store is a bucket on moto's S3 server
takes a voice answer (retrying while the server is down), keeps it only in the bucket,
encrypted; Whisper transcribes it, the review thread gets the transcript and the recording
(its upload waiting while the server is down again), and erasure deletes the object."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.flows.outgoing import Kind
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, SAMPLES, World, eventually
from storage.media_s3 import MediaBucket
from storage.models import (
    Answer,
    InboxStatus,
    InboxUpdate,
    OutboxMessage,
    OutboxStatus,
    TranscriptStatus,
)
from tests.helpers.s3 import client, keys, new_bucket, outage, settings_of
from tests.helpers.slack import card, db, hire
from tests.helpers.stories import invite, start_answering
from tests.recordings import assert_uploaded_recording

# A whole answer with real transcription and media conversion.
pytestmark = pytest.mark.slow


def _failed_update(session: Session, _now: datetime) -> InboxUpdate | None:
    """The newest update the bot received, once an attempt at it has failed."""
    newest = session.exec(
        select(InboxUpdate).order_by(InboxUpdate.update_id.desc()).limit(1)  # type: ignore[attr-defined]
    ).first()
    return newest if newest is not None and newest.last_error else None


def _upload_waiting(session: Session) -> OutboxMessage | None:
    """The recording's upload to the thread, once an attempt at it has failed."""
    upload = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == Kind.THREAD_UPLOAD)
    ).first()
    return upload if upload is not None and upload.last_error else None


async def test_a_voice_answer_lives_in_the_bucket_from_receipt_to_erasure(
    tmp_path: Path, s3_endpoint: str
) -> None:
    data = tmp_path / "data"
    with outage(s3_endpoint) as s3:
        bucket = new_bucket(s3_endpoint)
        served = settings_of(bucket) | {"media_s3_endpoint": s3.endpoint}
        async with World(data_dir=data, extra_settings=served) as w:
            assert isinstance(w.bot.media, MediaBucket)
            jane = w.telegram.candidate(700_301, "Jane", "Doe")
            await start_answering(w, jane, await invite(w))
            intro = await jane.wait_for_message("Question 1 of 2.")
            await jane.press("Ready", intro)
            await jane.wait_for_message("Question 1 of 2:")

            # The S3 server is down when the answer arrives: the update fails and waits for
            # its retry (the candidate hears nothing yet; nothing is lost).
            s3.down()
            mark = len(jane.inbox())
            await jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
            failed = await eventually(
                lambda: w.bot.uow.run_sync(_failed_update), what="the failed attempt"
            )
            assert failed.last_error == "MediaUnavailable", failed.last_error
            assert failed.status == InboxStatus.PENDING
            assert not any("Got it" in (m.text or "") for m in jane.inbox()[mark:])
            assert keys(s3_endpoint, bucket.name) == []

            # Back up: the retry stores it and the candidate hears "Got it".
            s3.up()
            got_it = await jane.wait_for_message("Got it", after=mark, timeout=30)

            # Down again when the recording is to go up to Slack: the upload waits and is
            # retried (deferred, never given up on), like a message to a platform that is down.
            s3.down()
            await jane.press("Submit ✅", got_it)
            await jane.wait_for_message("Answer 1 submitted", after=mark)
            waiting = await eventually(
                lambda: db(w, _upload_waiting), seconds=30, what="the upload to wait"
            )
            assert f"media bucket {bucket.name} at 127.0.0.1" in (waiting.last_error or "")
            assert waiting.status == OutboxStatus.PENDING
            s3.up()

            # In the bucket, encrypted at rest; not on this machine's disk.
            answer = db(w, lambda s: s.exec(select(Answer)).one())
            key = f"media/{answer.media_path}"
            assert keys(s3_endpoint, bucket.name) == [key]
            stored = client(s3_endpoint).get_object(Bucket=bucket.name, Key=key)
            assert stored["Body"].read() == (SAMPLES / "answer1.ogg").read_bytes()
            assert stored["ServerSideEncryption"] == "AES256"
            sample = (SAMPLES / "answer1.ogg").read_bytes()
            assert not [p for p in data.rglob("*") if p.is_file() and p.read_bytes() == sample]
            assert not (data / "media").exists()

            # Whisper heard it (from a copy of the bucket's object); the thread has the
            # transcript and the recording.
            def transcribed() -> bool:
                status = db(w, lambda s: s.exec(select(Answer.transcript_status)).one())
                return status == TranscriptStatus.DONE

            await eventually(transcribed, seconds=120, what="the transcript")
            parent = await card(w)

            def posted() -> list[str]:
                thread = w.slack.thread(REVIEW_CHANNEL, parent.ts)
                done = [
                    m.text for m in thread if m.text.startswith("*Q") and "pending" not in m.text
                ]
                return done if any(m.files for m in thread) else []

            [text] = await eventually(posted, seconds=60, what="transcript and recording")
            assert "payment" in text.lower()
            [uploaded] = w.slack.files
            assert_uploaded_recording(uploaded.data, SAMPLES / "answer1.ogg")

            # Erasure deletes the object.
            done = await hire(w, RECRUITER, "erase #1 confirm")
            assert done.startswith("Erased Jane Doe's recordings"), done
            await eventually(
                lambda: keys(s3_endpoint, bucket.name) == [], what="the object deleted"
            )
