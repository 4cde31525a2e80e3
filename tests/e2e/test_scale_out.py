"""The reference deployment as plain processes on this machine (compose.yaml's topology):
PostgreSQL, an S3 server, bot processes that receive answers and transcription workers that
may run anywhere. Nothing is lost or done twice when a worker dies mid-transcription, and
two bot processes behind one webhook answer each candidate once and in order."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.flows.outgoing import Kind
from bot.sandbox.balancer import Balancer
from bot.sandbox.processes import start_bot_process, start_worker_process
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import REVIEW_CHANNEL, SAMPLES, World, answer_question, eventually, free_port
from bot.worker import check
from storage.db import make_engine
from storage.models import Answer, OutboxMessage, TranscriptStatus
from tests.candidate.media_files import speech_voice_note
from tests.helpers.s3 import new_bucket, settings_of
from tests.helpers.stories import invite, start_answering

# Each boots bot and worker processes (and loads Whisper in each).
pytestmark = pytest.mark.slow


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite is one process's")
    return database_url


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def _answers(engine: Engine) -> list[Answer]:
    with Session(engine) as session:
        return list(session.exec(select(Answer).where(Answer.submitted)).all())


def _jobs_left(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one())


def _transcript_edits(engine: Engine) -> list[OutboxMessage]:
    """The edits that put a transcript into an answer's post (whether Slack has them yet)."""
    with Session(engine) as session:
        edits = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == Kind.THREAD_EDIT)
        ).all()
        return [e for e in edits if "payment" in str(e.payload).lower()]


def _transcribed_posts(world: World) -> list[str]:
    """The answers' posts in Jane's thread that carry a transcript (not "pending")."""
    parents = world.slack.messages(REVIEW_CHANNEL)
    if not parents:
        return []
    thread = world.slack.thread(REVIEW_CHANNEL, parents[0].ts)
    return [m.text for m in thread if m.text.startswith("*Q") and "pending" not in m.text]


async def _stop(*processes: asyncio.subprocess.Process) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _deployment(tmp_path: Path, postgres_url: str, s3_endpoint: str) -> World:
    """Bots that leave transcription to `hirebot worker`, media in a bucket on the S3 server."""
    served = settings_of(new_bucket(s3_endpoint)) | {"external_workers": True}
    return World(
        data_dir=tmp_path / "data",
        database_url=postgres_url,
        autostart=False,
        extra_settings=served,
    )


async def test_a_worker_process_transcribes_an_answer_a_bot_process_received(
    tmp_path: Path, postgres_url: str, s3_endpoint: str, engine: Engine
) -> None:
    async with _deployment(tmp_path, postgres_url, s3_endpoint) as w:
        bot = await start_bot_process(w, tmp_path / "bot.log")
        port = free_port()
        worker = await start_worker_process(w, tmp_path / "worker.log", port)
        try:
            jane = w.telegram.candidate(700_901, "Jane", "Doe")
            await start_answering(w, jane, await invite(w))
            await answer_question(
                jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
            )
            [posted] = await eventually(
                lambda: _transcribed_posts(w), seconds=120, what="the worker's transcript"
            )
            assert "payment" in posted.lower()
            [answer] = _answers(engine)
            assert (answer.transcript_status, answer.transcript_attempts) == (
                TranscriptStatus.DONE,
                1,
            )
            assert "payment" in (answer.transcript_text or "").lower()
            healthy, said = await asyncio.to_thread(check, "127.0.0.1", port)
            assert healthy, said
            await eventually(lambda: _jobs_left(engine) == 0, what="the finished job deleted")
        finally:
            await _stop(bot, worker)
        # The bot process was told to leave transcription to workers: it never loaded Whisper.
        assert "loaded Whisper model" not in (tmp_path / "bot.log").read_text()


async def test_a_worker_killed_mid_transcription_leaves_the_answer_to_another_exactly_once(
    tmp_path: Path, postgres_url: str, s3_endpoint: str, engine: Engine
) -> None:
    long_note = speech_voice_note(tmp_path / "long.ogg", 45)  # seconds of work to kill into
    async with _deployment(tmp_path, postgres_url, s3_endpoint) as w:
        bot = await start_bot_process(w, tmp_path / "bot.log")
        first = await start_worker_process(w, tmp_path / "first.log", free_port())
        second: asyncio.subprocess.Process | None = None
        try:
            jane = w.telegram.candidate(700_902, "Jane", "Doe")
            await start_answering(w, jane, await invite(w))
            await answer_question(jane, 1, 2, lambda: jane.send_voice(long_note, duration=45))

            def claimed() -> bool:
                answers = _answers(engine)
                return bool(answers) and answers[0].transcript_attempts == 1

            await eventually(claimed, seconds=120, what="the first worker's claim")
            first.send_signal(signal.SIGKILL)
            await first.wait()
            [answer] = _answers(engine)
            assert answer.transcript_status == TranscriptStatus.PENDING, "killed mid-work"

            second = await start_worker_process(w, tmp_path / "second.log", free_port())

            def transcribed() -> Answer | None:
                [answer] = _answers(engine)
                return answer if answer.transcript_status != TranscriptStatus.PENDING else None

            answer = await eventually(transcribed, seconds=300, what="the second transcript")
            assert "payment" in (answer.transcript_text or "").lower()
            # The killed claim used an attempt; the second worker's is the one that counted.
            assert (answer.transcript_status, answer.transcript_attempts) == (
                TranscriptStatus.DONE,
                2,
            )
            await eventually(lambda: _jobs_left(engine) == 0, what="no job left behind")
            await asyncio.sleep(3)  # anything still to come would change the transcript twice
            assert len(_transcript_edits(engine)) == 1
        finally:
            await _stop(bot, *([second] if second else []))
        assert "hirebot.transcribe_answer" in (tmp_path / "second.log").read_text()


async def test_two_bot_processes_share_the_webhook_without_duplicates_or_reordering(
    tmp_path: Path, postgres_url: str, s3_endpoint: str
) -> None:
    ports = [free_port(), free_port()]
    async with Balancer(ports) as balancer:
        webhook = {"HIREBOT_TELEGRAM_WEBHOOK_URL": f"{balancer.url}/telegram/webhook"}
        world = World(
            data_dir=tmp_path / "data",
            database_url=postgres_url,
            autostart=False,
            telegram_mode="webhook",
            http_port=ports[0],
            extra_settings=settings_of(new_bucket(s3_endpoint)),
        )
        async with world as w:
            bots = [
                await start_bot_process(
                    w, tmp_path / f"bot{i}.log", {**webhook, "HIREBOT_HTTP_PORT": str(port)}
                )
                for i, port in enumerate(ports)
            ]
            try:
                await _two_candidates_talk_at_once(w)
            finally:
                await _stop(*bots)
        assert all(balancer.served[port] > 5 for port in ports), balancer.served


async def _two_candidates_talk_at_once(w: World) -> None:
    people = [
        w.telegram.candidate(700_910 + i, name, "Doe") for i, name in enumerate(("Jane", "Joe"))
    ]
    tokens = [await invite(w, f"{p.first_name} Doe") for p in people]
    await asyncio.gather(*(start_answering(w, p, t) for p, t in zip(people, tokens, strict=True)))

    async def burst(candidate: SandboxCandidate) -> list[str]:
        mark = len(candidate.inbox())
        # Four commands at once; each process takes some, and every reply comes in turn.
        for command in ("/help", "/status", "/help", "/status"):
            await candidate.send_command(command)
        await eventually(lambda: len(candidate.inbox()) >= mark + 4, what="four replies")
        await asyncio.sleep(2)  # a duplicate would arrive now
        return [m.text or "" for m in candidate.inbox()[mark:]]

    replies = await asyncio.gather(*(burst(p) for p in people))
    for said in replies:
        assert len(said) == 4, said
        help_text, status_text = said[0], said[1]
        assert help_text != status_text
        assert said == [help_text, status_text, help_text, status_text], said
    # And an answer, stored by whichever process took it, once.
    jane = people[0]
    await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", duration=7))
    redelivered = w.telegram.webhook_deliveries[-1][0]
    w.telegram.redeliver(redelivered)  # Telegram pushes one again, to the other process
    await asyncio.sleep(2)
    got_its = [m for m in jane.inbox() if (m.text or "").startswith("Got it")]
    assert len(got_its) == 1
