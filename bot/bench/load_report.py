"""What ``hirebot bench load`` found, read from the emulators' own records.

Latencies are measured where the other side sees them: the Telegram emulator stamps when a
candidate's update reached it and when each bot request arrived; the Slack emulator stamps
each post and edit. Lost and duplicated posts are counted against what the candidates did:
each submitted answer must be in its candidate's thread exactly once, with the transcript of
the take that was submitted (not of a replaced one) and its recording, in question order; each
candidate's Telegram chat must show every step once, in order.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.bench.load_people import QUESTIONS, TRY_AGAIN, CandidateRun, Votes
from bot.sandbox.slack import SlackMessage, SlackSandbox
from bot.sandbox.telegram import TelegramSandbox
from bot.sandbox.world import REVIEW_CHANNEL, visible_text

TARGET_ACK_P99_MS = 300.0
TARGET_THROUGHPUT_SHARE = 0.9  # of raw faster-whisper's on the same cores

# Bot requests a candidate sees as a reply in their chat.
_REPLIES = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "sendvoice",
        "sendvideo",
        "sendvideonote",
        "senddocument",
        "sendaudio",
        "sendphoto",
        "sendchataction",
    }
)
# What each chat must show, each once and in this order.
_STEPS = [
    "Do you agree?",
    *(
        step
        for n in range(1, QUESTIONS + 1)
        for step in (f"Question {n} of {QUESTIONS}.", f"Question {n} of {QUESTIONS}:")
    ),
    "submitted all",
]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


@dataclass(frozen=True)
class QueuedRow:
    """An outbox row of a candidate's chat message, as the bench reads it after the run."""

    id: int | None
    # Outcomes recorded (sent, or deferred for a retry): one with two copies sent, the
    # first sender's outcome was never recorded (its lease ran out); two, a send that
    # failed as far as the bot could tell (a timeout) had reached Telegram after all.
    attempts: int


@dataclass
class Check:
    """The invariants: each count should be zero."""

    lost: int = 0  # submitted answers with no post in the thread
    duplicated: int = 0  # posts (answers, cards, files, chat messages) there more than once
    without_transcript: int = 0  # posts whose transcript failed or is not the take's
    pending: int = 0  # posts still waiting for their transcript when the run ended
    out_of_order: int = 0  # candidates whose thread or chat is out of order
    missing_files: int = 0  # answers whose recording is not under the post
    stuck: int = 0  # candidates who did not get through (a reply that never came)
    # Chat messages sent again because a kill -9 came between Telegram taking one and the
    # bot recording it: reported, not failed (see extra_copies).
    resent_after_kill: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.without_transcript
            or self.pending
            or self.out_of_order
            or self.missing_files
            or self.stuck
        )


@dataclass
class Figures:
    ack_seconds: list[float]
    # The same acks by what the candidate sent: a button press, a recording, anything else.
    ack_by_kind: dict[str, list[float]]
    # Candidates' updates a second in the busiest PEAK_WINDOW_SECONDS: how hard the run was.
    peak_rate: float
    post_seconds: list[float]
    transcript_seconds: list[float]
    audio_seconds: float
    transcription_window: float
    check: Check
    # (when, audio seconds) of each transcript, and when the candidates' last update was
    # sent: after it the bot has nothing to do but transcribe (see quiet_throughput).
    transcribed: list[tuple[float, float]] = field(default_factory=list)
    last_update_at: float = 0.0
    # A button press until the bot's next message in that chat. Its ack above is its
    # spinner stopping, which comes first (the press is stored); this is what follows.
    button_message_seconds: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.audio_seconds / self.transcription_window if self.transcription_window else 0

    @property
    def quiet_throughput(self) -> tuple[float, int, float] | None:
        """Transcription speed once the candidates are done: (audio s per wall s, answers,
        window). Over the whole run the bot's handling of 200 candidates takes its share of
        the cores; this is what the transcription path gives when it has them, the figure
        to hold against raw faster-whisper. None when too few answers were left for it."""
        after = sorted(t for t in self.transcribed if t[0] > self.last_update_at)
        if len(after) < QUIET_MIN_ANSWERS:
            return None
        # From the first transcript after the quiet began: the one in progress then had
        # started earlier, so counting its audio from the quiet's start would flatter.
        window = after[-1][0] - after[0][0]
        audio = sum(seconds for _, seconds in after[1:])
        return (audio / window, len(after) - 1, window) if window > 0 else None


# Answers that must be transcribed after the candidates are done for quiet_throughput.
QUIET_MIN_ANSWERS = 10


def measure(
    telegram: TelegramSandbox,
    slack: SlackSandbox,
    runs: list[CandidateRun],
    queued: Mapping[tuple[int, str], Sequence[QueuedRow]] | None = None,
    kills: Sequence[float] = (),
    started: float = 0.0,
) -> Figures:
    """``queued``: the outbox rows the bot wrote for each (chat, text); ``kills``: when
    (time.monotonic()) a bot process got kill -9 (``--faults``); ``started``: when the
    candidates started (times in problems are counted from it, like the faults')."""
    check = Check()
    by_kind, button_messages = _acks(telegram, runs)
    acks = sorted(seconds for kind in by_kind.values() for seconds in kind)
    cards = _cards(slack, runs, check)
    posts: list[float] = []
    transcripts: list[float] = []
    transcribed: list[tuple[float, float]] = []
    first_post, last_transcript = float("inf"), 0.0
    audio = 0.0
    for run in runs:
        if not run.finished:
            check.stuck += 1
            check.problems.append(f"candidate {run.index}: {run.problem}")
        _check_chat(telegram, run, check, queued or {}, kills, started)
        card = cards.get(run.index)
        if card is None:
            check.lost += len(run.submits)
            continue
        thread = slack.thread(REVIEW_CHANNEL, card.ts)
        found = _check_thread(slack, run, card, thread, check)
        for number, post in found.items():
            submitted = telegram.sent_at[run.submits[number]]
            posts.append(post.posted_at - submitted)
            first_post = min(first_post, post.posted_at)
            recording = run.recordings[number]
            if post.edited_at is not None and recording.word in post.text.lower():
                transcripts.append(post.edited_at - submitted)
                transcribed.append((post.edited_at, recording.seconds))
                last_transcript = max(last_transcript, post.edited_at)
                audio += recording.seconds  # transcribed: a pending answer's audio is not
    window = max(0.0, last_transcript - first_post) if transcripts else 0.0
    sent = [telegram.sent_at[update_id] for run in runs for update_id in run.sent]
    return Figures(
        acks, by_kind, peak_rate(sent), posts, transcripts, audio, window, check,
        transcribed, max(sent, default=0.0), button_messages,
    )  # fmt: skip


PEAK_WINDOW_SECONDS = 10.0


def peak_rate(times: list[float]) -> float:
    """The most of ``times`` within any PEAK_WINDOW_SECONDS, per second."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > PEAK_WINDOW_SECONDS:
            start += 1
        most = max(most, end - start + 1)
    return most / PEAK_WINDOW_SECONDS


def _acks(
    telegram: TelegramSandbox, runs: list[CandidateRun]
) -> tuple[dict[str, list[float]], list[float]]:
    """Per first delivery of a candidate's update: seconds until the bot's first reply to it
    (a message or edit in their chat, or the answer to their button press), by the update's
    kind (``update_kind``); and for button presses, seconds until that message or edit."""
    replies: dict[int, list[float]] = defaultdict(list)
    answered: dict[str, float] = {}
    for call in telegram.calls:
        method = call.method.lower()
        if call.status != 200:
            continue
        if method == "answercallbackquery":
            answered.setdefault(str(call.params.get("callback_query_id")), call.at)
        elif method in _REPLIES and call.params.get("chat_id") not in (None, ""):
            replies[int(call.params["chat_id"])].append(call.at)
    for times in replies.values():
        times.sort()
    seconds: dict[str, list[float]] = defaultdict(list)
    button_messages: list[float] = []
    for run in runs:
        chat = replies.get(run.user_id, [])
        for update_id in run.sent:
            sent = telegram.sent_at[update_id]
            candidates = []
            at = bisect.bisect_left(chat, sent)
            if at < len(chat):
                candidates.append(chat[at])
            update = telegram.update(update_id)
            query = update.get("callback_query")
            if query is not None and candidates:
                button_messages.append(candidates[0] - sent)
            if query is not None and str(query["id"]) in answered:
                candidates.append(answered[str(query["id"])])
            if candidates:
                seconds[update_kind(update)].append(min(candidates) - sent)
    return dict(seconds), button_messages


_RECORDINGS = ("voice", "video_note", "video", "audio", "document")


def update_kind(update: dict[str, Any]) -> str:
    """``button`` (a press), ``recording`` (a voice note, video…) or ``text`` (the rest)."""
    if "callback_query" in update:
        return "button"
    message = update.get("message") or {}
    return "recording" if any(key in message for key in _RECORDINGS) else "text"


def _cards(slack: SlackSandbox, runs: list[CandidateRun], check: Check) -> dict[int, SlackMessage]:
    by_name: dict[str, list[SlackMessage]] = defaultdict(list)
    for message in slack.messages(REVIEW_CHANNEL):
        for run in runs:
            if run.name in visible_text(message):
                by_name[run.name].append(message)
                break
    cards = {}
    for run in runs:
        found = by_name.get(run.name, [])
        if len(found) > 1:
            check.duplicated += len(found) - 1
            check.problems.append(f"candidate {run.index}: {len(found)} cards")
        if found:
            cards[run.index] = found[0]
    return cards


def _check_thread(
    slack: SlackSandbox,
    run: CandidateRun,
    card: SlackMessage,
    thread: list[SlackMessage],
    check: Check,
) -> dict[int, SlackMessage]:
    found: dict[int, SlackMessage] = {}
    posted = 0  # questions with a post: a submit handled after the candidate gave up counts
    for number in range(1, QUESTIONS + 1):
        posts = [m for m in thread if m.text.startswith(f"*Q{number}.")]
        posted += bool(posts)
        if len(posts) > 1:
            check.duplicated += len(posts) - 1
            check.problems.append(f"candidate {run.index}: answer {number} posted {len(posts)}×")
        if number not in run.submits:
            continue
        if not posts:
            check.lost += 1
            check.problems.append(f"candidate {run.index}: answer {number} not posted")
            continue
        post = found[number] = posts[0]
        if "Transcript pending" in post.text:
            check.pending += 1
        elif run.recordings[number].word not in post.text.lower():
            check.without_transcript += 1
            check.problems.append(f"candidate {run.index}: answer {number} has no transcript")
    order = [found[n].ts for n in sorted(found)]
    if order != sorted(order, key=float):
        check.out_of_order += 1
        check.problems.append(f"candidate {run.index}: answers out of order in the thread")
    files = len([f for f in slack.files if f.thread_ts == card.ts])
    if files < len(run.submits):
        check.missing_files += len(run.submits) - files
    elif files > posted:
        check.duplicated += files - posted
        check.problems.append(f"candidate {run.index}: {files} recordings for {posted} answers")
    return found


# The emulator stamps a message when its handler runs, which under load is a little after
# the sender wrote the request: a process killed just after writing has its message stamped
# after its death. A faults run showed one (the copy stamped 153.5 s, the kill moments before;
# the second copy exactly a lease later).
STAMP_LAG_SECONDS = 0.5


def extra_copies(times: Sequence[float], queued: int, kills: Sequence[float]) -> tuple[int, int]:
    """Of one chat message sent at ``times`` that the bot queued ``queued`` times (outbox
    rows), the copies after the first: (sent again by delivery with a kill -9 of a bot
    process between the copy before and it, or just before that copy's stamp: at-least-once,
    since the Bot API has no idempotency key and no way to ask what was sent; copies nothing
    explains: queued twice by a flow, or one row sent twice with no kill between, a
    delivery bug)."""
    ordered = sorted(times)
    rows = min(len(ordered), max(queued, 1))
    after_kill, twice = 0, rows - 1
    for before, again in itertools.pairwise(ordered[rows - 1 :]):
        if any(before - STAMP_LAG_SECONDS <= k <= again for k in kills):
            after_kill += 1
        else:
            twice += 1
    return after_kill, twice


def _check_chat(
    telegram: TelegramSandbox,
    run: CandidateRun,
    check: Check,
    queued: Mapping[tuple[int, str], Sequence[QueuedRow]],
    kills: Sequence[float],
    started: float,
) -> None:
    """Every step once and in order; a message sent again after a kill counted apart."""
    sent = [m for m in telegram.messages_to(run.user_id) if m.kind == "text"]
    texts = [m.text or "" for m in sent]
    # "Please try again" may rightly come more than once; every other message once.
    copies: dict[str, list[float]] = defaultdict(list)
    for message in sent:
        if TRY_AGAIN not in (message.text or ""):
            copies[message.raw_text or message.text or ""].append(message.at)
    for raw, times in copies.items():
        rows = queued.get((run.user_id, raw), ())
        after_kill, twice = extra_copies(times, len(rows), kills)
        check.resent_after_kill += after_kill
        if twice:
            check.duplicated += twice
            # Enough to tell the causes apart: two rows (a flow queued it twice) or one row
            # claimed again (delivery), and when, to match against the faults and the logs.
            at = ", ".join(f"{t - started:.1f}" for t in sorted(times))
            made = ", ".join(f"#{r.id} ({r.attempts} outcomes recorded)" for r in rows)
            nearest = min(kills, key=lambda k: abs(k - min(times)), default=None)
            kill = "" if nearest is None else f"; nearest bot kill at {nearest - started:.1f} s"
            check.problems.append(
                f"candidate {run.index}: chat message {raw[:32]!r} sent {len(times)} times "
                f"(at {at} s), outbox rows: {made or 'none found'}{kill}"
            )
    if not run.finished:
        return
    where = [next((i for i, t in enumerate(texts) if step in t), -1) for step in _STEPS]
    if -1 in where or where != sorted(where):
        check.out_of_order += 1
        check.problems.append(f"candidate {run.index}: the chat's steps are out of order")


def summary(figures: Figures, votes: Votes) -> dict[str, Any]:
    """The figures as one JSON-able dict (what the test reads)."""
    check = figures.check
    quiet = figures.quiet_throughput
    return {
        "ack_p50_ms": percentile(figures.ack_seconds, 50) * 1000,
        "ack_p99_ms": percentile(figures.ack_seconds, 99) * 1000,
        "acks": len(figures.ack_seconds),
        "peak_updates_per_second": figures.peak_rate,
        "ack_by_kind": {
            kind: {
                "p50_ms": percentile(seconds, 50) * 1000,
                "p99_ms": percentile(seconds, 99) * 1000,
                "n": len(seconds),
            }
            for kind, seconds in sorted(figures.ack_by_kind.items())
        },
        "button_message_p50_ms": percentile(figures.button_message_seconds, 50) * 1000,
        "button_message_p99_ms": percentile(figures.button_message_seconds, 99) * 1000,
        "post_p50_s": percentile(figures.post_seconds, 50),
        "post_p99_s": percentile(figures.post_seconds, 99),
        "transcript_p50_s": percentile(figures.transcript_seconds, 50),
        "transcript_p99_s": percentile(figures.transcript_seconds, 99),
        "audio_seconds": figures.audio_seconds,
        "throughput": figures.throughput,
        "quiet_throughput": quiet[0] if quiet else None,
        "vote_p99_ms": percentile(votes.acks, 99) * 1000,
        "votes": len(votes.acks),
        "votes_failed": votes.failed,
        "lost": check.lost,
        "duplicated": check.duplicated,
        "resent_after_kill": check.resent_after_kill,
        "without_transcript": check.without_transcript,
        "pending": check.pending,
        "out_of_order": check.out_of_order,
        "missing_files": check.missing_files,
        "stuck": check.stuck,
        "passed": check.passed,
    }
