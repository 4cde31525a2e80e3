"""The people of ``hirebot bench load``: candidates who go through whole interviews on
Telegram, and reviewers who vote in Slack meanwhile.

A candidate thinks before each step (a random pause, scaled), records in real time (a voice
note takes as long to send as it lasts), sometimes records an answer again, and Telegram
sometimes delivers one of their updates twice (at-least-once delivery). Everything they send
goes through the sandbox as a real client's update would; what the bot sent back is read from
the emulator's records.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bot.sandbox.slack import SlackMessage
from bot.sandbox.telegram import SandboxCandidate, SentMessage
from bot.sandbox.world import INVITE_LINK, RECRUITER, REVIEW_CHANNEL, SAMPLES, World

QUESTIONS = 2  # bot/sandbox/samples/backend-engineer.yaml
TRY_AGAIN = "Please try again"  # the bot gave up on an update ("went_wrong")
ATTEMPTS = 3  # then the candidate gives up too
FIRST_USER_ID = 910_000
INVITE_ACK_SECONDS = 60.0


@dataclass(frozen=True)
class Recording:
    """A sample answer, how it is sent, and a word its transcript must contain."""

    path: Path
    kind: str  # "voice" or "video_note"
    seconds: float
    word: str


# Q1 is answered with answer1 (a payment service), Q2 with answer2 (mentoring): a post
# whose transcript has the other word carries a take that should not have reached the team.
ANSWERS = {
    1: Recording(SAMPLES / "answer1.ogg", "voice", 7.04, "payment"),
    2: Recording(SAMPLES / "answer2.ogg", "voice", 5.71, "mentoring"),
}
VIDEO_NOTE = Recording(SAMPLES / "answer2.mp4", "video_note", 5.71, "mentoring")
# A replaced take: what the candidate said first and then recorded again.
DISCARDED = {1: ANSWERS[2], 2: ANSWERS[1]}


@dataclass(frozen=True)
class Behaviour:
    think_scale: float = 1.0  # × each pause (1-4 s) and each recording's real time
    ramp_seconds: float = 30.0  # candidates start spread over this long
    rerecord_rate: float = 0.2  # chance to record a question again before submitting
    duplicate_rate: float = 0.1  # chance that Telegram delivers an update twice
    wait_seconds: float = 120.0  # how long a candidate waits for each reply


@dataclass
class CandidateRun:
    """What one simulated candidate did and when."""

    index: int
    user_id: int
    name: str
    token: str
    sent: list[int] = field(default_factory=list)  # update ids, first deliveries
    duplicated: list[int] = field(default_factory=list)  # update ids delivered twice
    submits: dict[int, int] = field(default_factory=dict)  # question → Submit's update id
    audio_seconds: float = 0.0  # of the submitted takes
    recordings: dict[int, Recording] = field(default_factory=dict)  # question → submitted
    asked_again: int = 0  # times the bot asked them to try again (it gave up on an update)
    finished: bool = False
    problem: str | None = None


async def invite_all(w: World, count: int, behaviour: Behaviour) -> list[CandidateRun]:
    """The recruiter invites ``count`` candidates (before the clock starts), five at a time."""
    rita = w.slack.teammate(RECRUITER)

    async def one(index: int) -> CandidateRun:
        name = f"Load Candidate{index:04d}"
        reply = await rita.slash("/hire", f"invite backend-engineer {name}", REVIEW_CHANNEL)
        found = INVITE_LINK.search(reply.text or "")
        if found is None:
            raise RuntimeError(f"the invite for candidate {index} got no link")
        return CandidateRun(index, FIRST_USER_ID + index, name, found.group(2))

    # Setting the stage is not measured: on a busy machine an invite's ack may take longer
    # than Slack's few seconds, and a retried invite would invite the person twice.
    patience, w.slack.ack_timeout = w.slack.ack_timeout, INVITE_ACK_SECONDS
    runs: list[CandidateRun] = []
    try:
        for start in range(0, count, 5):
            runs += await asyncio.gather(*(one(i) for i in range(start, min(count, start + 5))))
    finally:
        w.slack.ack_timeout = patience
    return runs


async def interview(w: World, run: CandidateRun, behaviour: Behaviour, rng: random.Random) -> None:
    """One candidate's whole interview; a reply that never comes is recorded, not raised."""
    try:
        await asyncio.sleep(rng.uniform(0, behaviour.ramp_seconds))
        await _interview(w, run, behaviour, rng)
        run.finished = True
    except AssertionError as missing:
        run.problem = str(missing).splitlines()[0][:300]


async def _interview(w: World, run: CandidateRun, b: Behaviour, rng: random.Random) -> None:
    person = w.telegram.candidate(run.user_id, "Load", f"Candidate{run.index:04d}")
    wait = b.wait_seconds

    async def think(extra: float = 0.0) -> None:
        await asyncio.sleep((rng.uniform(1.0, 4.0) + extra) * b.think_scale)

    async def send(update_id: int) -> int:
        run.sent.append(update_id)
        if rng.random() < b.duplicate_rate:
            run.duplicated.append(update_id)
            delay = rng.uniform(0.0, 2.0) * b.think_scale
            asyncio.get_running_loop().call_later(delay, w.telegram.redeliver, update_id)
        return update_id

    async def step(action: Callable[[], Awaitable[int]], expect: str) -> tuple[SentMessage, int]:
        """Send, then wait for the reply that says it worked: the message and the update id.
        Asked to try again (the bot gave up on the update), the candidate does, as people do."""
        for _attempt in range(ATTEMPTS):
            mark = len(person.inbox())
            update_id = await send(await action())
            reply = await _reply(w, person, mark, expect, wait)
            if expect in (reply.text or ""):
                return reply, update_id
            run.asked_again += 1
            await think()
        raise AssertionError(f"asked to try again {ATTEMPTS} times, waiting for {expect!r}")

    consent, _ = await step(partial(person.send_command, "/start", run.token), "Do you agree?")
    await think()
    intro, _ = await step(partial(person.press, "I agree", consent), "Question 1 of")
    for number in range(1, QUESTIONS + 1):
        await think()
        await step(partial(person.press, "Ready", intro), f"Question {number} of {QUESTIONS}:")
        takes = [DISCARDED[number]] if rng.random() < b.rerecord_rate else []
        final = ANSWERS[number]
        if number == 2 and run.index % 3 == 0:
            final = VIDEO_NOTE
        takes.append(final)
        got_it: SentMessage | None = None
        for recording in takes:
            if got_it is not None:  # the take before this one: record it again
                await think()
                again = partial(person.press, _rerecord_button(got_it), got_it)
                await step(again, "record it again")
            await think(recording.seconds)  # recording takes its own length
            got_it, _ = await step(partial(_record, person, recording), "Got it")
        assert got_it is not None
        await think()
        mark = len(person.inbox())
        _, run.submits[number] = await step(
            partial(person.press, "Submit ✅", got_it), f"Answer {number} submitted"
        )
        run.recordings[number] = final
        run.audio_seconds += final.seconds
        following = f"Question {number + 1} of" if number < QUESTIONS else "submitted all"
        intro = await person.wait_for_message(following, after=mark, timeout=wait)


async def _reply(
    w: World, person: SandboxCandidate, mark: int, expect: str, wait: float
) -> SentMessage:
    """The first message at or after ``mark`` that has ``expect``, or asks to try again."""

    def found() -> SentMessage | None:
        for sent in person.inbox()[mark:]:
            if any(text in (sent.text or "") for text in (expect, TRY_AGAIN)):
                return sent
        return None

    reply = await w.telegram.wait_for_sent(found, wait)
    if reply is None:
        raise AssertionError(f"no reply with {expect!r} within {wait:.0f} s")
    return reply


def _rerecord_button(got_it: SentMessage) -> str:
    for label, data in got_it.buttons():
        if label.startswith("Record again"):
            return data
    raise AssertionError("no Record again button on the take")


async def _record(person: SandboxCandidate, recording: Recording) -> int:
    duration = round(recording.seconds)
    if recording.kind == "video_note":
        return await person.send_video_note(recording.path, duration=duration)
    return await person.send_voice(recording.path, duration=duration)


@dataclass
class Votes:
    """The reviewers' clicks: each one's ack latency (send → the bot's ack) and failures."""

    acks: list[float] = field(default_factory=list)
    failed: int = 0


async def review(
    w: World, reviewers: int, behaviour: Behaviour, done: asyncio.Event, rng: random.Random
) -> Votes:
    """``reviewers`` teammates vote on random cards every few seconds until ``done``."""
    votes = Votes()
    people = []
    for i in range(reviewers):
        user = f"U0LOADREV{i:03d}"
        w.slack.add_user(user, user.lower())
        w.slack.channel(REVIEW_CHANNEL).members.append(user)
        people.append(w.slack.teammate(user))

    async def reviewer(index: int) -> None:
        while not done.is_set():
            await asyncio.sleep(rng.uniform(2.0, 6.0) * behaviour.think_scale)
            cards: list[SlackMessage] = w.slack.messages(REVIEW_CHANNEL)
            if not cards:
                continue
            choice = rng.choice(("vote_yes", "vote_maybe", "vote_no"))
            begin = time.monotonic()
            try:
                status = await people[index].click(choice, message=rng.choice(cards))
            except (AssertionError, OSError, TimeoutError):
                status = 0
            if status == 200:
                votes.acks.append(time.monotonic() - begin)
            else:
                votes.failed += 1

    await asyncio.gather(*(reviewer(i) for i in range(reviewers)))
    return votes
