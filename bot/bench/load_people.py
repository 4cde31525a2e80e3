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
from dataclasses import dataclass, field
from pathlib import Path

from bot.sandbox.slack import SlackMessage
from bot.sandbox.telegram import SandboxCandidate, SentMessage
from bot.sandbox.world import INVITE_LINK, RECRUITER, REVIEW_CHANNEL, SAMPLES, World

QUESTIONS = 2  # bot/sandbox/samples/backend-engineer.yaml
FIRST_USER_ID = 910_000


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
    finished: bool = False
    problem: str | None = None


async def invite_all(w: World, count: int, behaviour: Behaviour) -> list[CandidateRun]:
    """The recruiter invites ``count`` candidates (before the clock starts), ten at a time."""
    rita = w.slack.teammate(RECRUITER)

    async def one(index: int) -> CandidateRun:
        name = f"Load Candidate{index:04d}"
        reply = await rita.slash("/hire", f"invite backend-engineer {name}", REVIEW_CHANNEL)
        found = INVITE_LINK.search(reply.text or "")
        if found is None:
            raise RuntimeError(f"the invite for candidate {index} got no link")
        return CandidateRun(index, FIRST_USER_ID + index, name, found.group(2))

    runs: list[CandidateRun] = []
    for start in range(0, count, 10):
        runs += await asyncio.gather(*(one(i) for i in range(start, min(count, start + 10))))
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

    await send(await person.send_command("/start", run.token))
    consent = await person.wait_for_message("Do you agree?", timeout=wait)
    await think()
    mark = len(person.inbox())
    await send(await person.press("I agree", consent))
    for number in range(1, QUESTIONS + 1):
        intro = await person.wait_for_message(
            f"Question {number} of {QUESTIONS}.", after=mark, timeout=wait
        )
        await think()
        mark = len(person.inbox())
        await send(await person.press("Ready", intro))
        await person.wait_for_message(
            f"Question {number} of {QUESTIONS}:", after=mark, timeout=wait
        )
        takes = [DISCARDED[number]] if rng.random() < b.rerecord_rate else []
        final = ANSWERS[number]
        if number == 2 and run.index % 3 == 0:
            final = VIDEO_NOTE
        takes.append(final)
        got_it: SentMessage | None = None
        for recording in takes:
            if got_it is not None:  # the take before this one: record it again
                await think()
                mark = len(person.inbox())
                await send(await person.press(_rerecord_button(got_it), got_it))
                await person.wait_for_message("record it again", after=mark, timeout=wait)
            await think(recording.seconds)  # recording takes its own length
            mark = len(person.inbox())
            await send(await _record(person, recording))
            got_it = await person.wait_for_message("Got it", after=mark, timeout=wait)
        assert got_it is not None
        await think()
        mark = len(person.inbox())
        run.submits[number] = await send(await person.press("Submit ✅", got_it))
        run.recordings[number] = final
        run.audio_seconds += final.seconds
        await person.wait_for_message(f"Answer {number} submitted", after=mark, timeout=wait)
    await person.wait_for_message("submitted all", after=mark, timeout=wait)


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
