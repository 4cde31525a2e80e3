"""``hirebot bench load``: N candidates interview at once while reviewers vote.

The whole world runs on 127.0.0.1: the Telegram and Slack emulators, the candidates and
reviewers in this process (bot.bench.load_people), the bot as real processes
(bot.bench.load_fleet) in one of two topologies. It prints the candidates' ack latency, how
soon answers and transcripts reach Slack, transcription throughput next to raw
faster-whisper's on the same cores (measured in the same run, after the load), peak RSS per
process, and whether every answer reached Slack exactly once, transcribed, in order
(bot.bench.load_report). ``--faults`` breaks things meanwhile (bot.bench.load_faults).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.bench.fresh_process import run_json
from bot.bench.load_faults import Fault, Faults
from bot.bench.load_fleet import Fleet
from bot.bench.load_people import (
    ANSWERS,
    VIDEO_NOTE,
    Behaviour,
    CandidateRun,
    Votes,
    interview,
    invite_all,
    review,
)
from bot.bench.load_report import (
    PEAK_WINDOW_SECONDS,
    TARGET_ACK_P99_MS,
    TARGET_THROUGHPUT_SHARE,
    Figures,
    QueuedRow,
    measure,
    percentile,
    summary,
)
from bot.flows.outgoing import Kind
from bot.sandbox.balancer import Balancer
from bot.sandbox.s3_server import Outage, moto_server, new_bucket, outage, settings_of
from bot.sandbox.world import REVIEW_CHANNEL, World, eventually, free_port
from bot.transcription.jobs import pool_size
from bot.unit_of_work import opened
from storage.models import OutboxMessage

TOPOLOGIES = {
    "sqlite": "1 bot process, SQLite, media on its disk, Telegram polling, Whisper in its threads",
    "postgres": (
        "2 bot processes behind a load balancer (Telegram webhook) + 2 `hirebot worker`, "
        "PostgreSQL, media in S3 (moto server)"
    ),
}
DEFAULT_POSTGRES = os.environ.get(
    "HIREBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Options:
    candidates: int = 200
    topology: str = "sqlite"
    faults: bool = False
    behaviour: Behaviour = field(default_factory=Behaviour)
    reviewers: int = 5
    postgres: str = DEFAULT_POSTGRES  # a server's admin URL: the run makes its own database
    postgres_restart: str | None = None  # the command that restarts that server
    fault_every: float = 30.0
    drain_seconds: float = 300.0  # after the last candidate, how long Slack may take
    raw_baseline: bool = True
    seed: int = 13
    logs: Path | None = None  # keep the processes' logs here (default: thrown away)


@dataclass
class Result:
    options: Options
    runs: list[CandidateRun]
    figures: Figures
    votes: Votes
    faults: list[Fault]
    peaks: dict[str, float]
    restarts: dict[str, list[float]]
    streams: int  # transcriptions at once, all processes together
    raw: dict[str, Any] | None
    wall: float
    load: tuple[float, float]  # the machine's load average before and after
    # CPU seconds each part used from the first invite to the last post ("bot-1 whisper",
    # "postgres", "bench"...): where the cores went, next to the figures they explain.
    cpu: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        found = summary(self.figures, self.votes)
        found["cpu_seconds"] = self.cpu
        if self.raw is not None:
            found["raw_throughput"] = self.raw["audio_seconds"] / self.raw["wall_seconds"]
        found["asked_again"] = sum(run.asked_again for run in self.runs)
        found["peak_mb"] = self.peaks
        found["faults"] = [f.__dict__ for f in self.faults]
        return found


async def run(options: Options) -> Result:
    load_before = os.getloadavg()[0]
    rng = random.Random(options.seed)
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hirebot-load-")))
        shape = _Shape.of(options, stack)
        async with Balancer([free_port() for _ in range(shape.bots)]) as balancer:
            world = World(
                data_dir=folder / "data",
                database_url=shape.database_url,
                autostart=False,
                telegram_mode="webhook" if shape.s3 else "polling",
                http_port=balancer.port if shape.s3 else 0,
                extra_settings=shape.settings,
            )
            async with world as w:
                fleet = Fleet(
                    w,
                    options.logs or folder,
                    bots=shape.bots,
                    workers=shape.workers,
                    environment=shape.environment,
                    bot_ports=balancer.ports,
                )
                async with fleet:
                    started = time.monotonic()
                    before = _cpu_seconds(fleet)
                    runs, votes, faults = await _interviews(
                        w, fleet, options, shape.s3, rng, started
                    )
                    wall = time.monotonic() - started
                    after = _cpu_seconds(fleet)
                    cpu = {part: after[part] - before.get(part, 0.0) for part in after}
                    kills = [at for bot in fleet.of("run") for at in bot.killed_at]
                    figures = measure(w.telegram, w.slack, runs, _queued(w), kills, started)
        peaks = {m.role: m.peak_mb for m in fleet.members}
        peaks |= {
            f"{m.role} {kind}": mb for m in fleet.members for kind, mb in m.helpers_peak_mb.items()
        }
        peaks["bench (emulators, people)"] = _own_peak_mb()
        # As the processes transcribe: pool_size() answers at once in each, their threads
        # sharing the cores (bot.transcription.faster.cpu_threads).
        each = pool_size()
        streams = each * (shape.workers or shape.bots)
        raw = None
        if options.raw_baseline:
            raw = await asyncio.to_thread(_raw_baseline, runs, streams, each)
            peaks["raw faster-whisper"] = raw["peak_mb"]
    return Result(
        options, runs, figures, votes, faults, peaks,
        {m.role: m.restarts for m in fleet.members if m.restarts},
        streams, raw, wall, (load_before, os.getloadavg()[0]), cpu,
    )  # fmt: skip


@dataclass
class _Shape:
    """What a topology is made of."""

    bots: int = 1
    workers: int = 0
    database_url: str | None = None
    s3: Outage | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, options: Options, stack: contextlib.ExitStack) -> _Shape:
        """The topology's database, bucket and processes; torn down with ``stack``."""
        if options.topology == "sqlite":
            return cls()
        database_url = stack.enter_context(_database(options.postgres))
        endpoint = stack.enter_context(moto_server())
        s3 = stack.enter_context(outage(endpoint))
        bucket = settings_of(new_bucket(endpoint))
        return cls(
            bots=2,
            workers=2,
            database_url=database_url,
            s3=s3,
            settings={**bucket, "media_s3_endpoint": s3.endpoint},  # through the relay
            environment={"HIREBOT_EXTERNAL_WORKERS": "true"},
        )


def _queued(w: World) -> dict[tuple[int, str], list[QueuedRow]]:
    """The outbox rows the bot wrote for each (candidate chat, text): a chat message seen
    more often than this was one row sent again, not queued twice by a flow."""
    settings = w.settings()
    with opened(settings.db_url, settings.media_dir) as uow:
        rows = uow.run_sync(
            lambda s, _now: s.exec(
                select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.payload).where(
                    OutboxMessage.kind == Kind.CANDIDATE_TEXT
                )
            ).all()
        )
    found: dict[tuple[int, str], list[QueuedRow]] = defaultdict(list)
    for row_id, attempts, payload in rows:
        found[int(payload["chat_id"]), str(payload["text"])].append(QueuedRow(row_id, attempts))
    return found


def _cpu_seconds(fleet: Fleet) -> dict[str, float]:
    fleet.sample()
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {**fleet.cpu_seconds(), "bench (emulators, people)": own.ru_utime + own.ru_stime}


def _own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _interviews(
    w: World,
    fleet: Fleet,
    options: Options,
    s3: Outage | None,
    rng: random.Random,
    started: float,
) -> tuple[list[CandidateRun], Votes, list[Fault]]:
    behaviour = options.behaviour
    runs = await invite_all(w, options.candidates, behaviour)
    await eventually(
        lambda: len(w.slack.messages(REVIEW_CHANNEL)) >= options.candidates,
        seconds=300,
        what="every candidate's card",
    )
    done = asyncio.Event()
    reviewers = asyncio.create_task(review(w, options.reviewers, behaviour, done, rng))
    breaking = None
    if options.faults:
        faults = Faults(
            fleet,
            w.slack,
            every=options.fault_every,
            s3=s3,
            postgres_restart=options.postgres_restart,
            rng=rng,
            origin=started,
        )
        breaking = asyncio.create_task(faults.run(done))
    progress = asyncio.create_task(_progress(w, fleet, runs, done))
    await asyncio.gather(
        *(interview(w, run, behaviour, random.Random(rng.random())) for run in runs)
    )
    await _drain(w, runs, options.drain_seconds)
    done.set()
    await progress
    found = await breaking if breaking is not None else []
    return runs, await reviewers, found


async def _progress(w: World, fleet: Fleet, runs: list[CandidateRun], done: asyncio.Event) -> None:
    """A line on stderr every 15 s: a long run shows it is alive, and where it is."""
    began = time.monotonic()
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), PROGRESS_SECONDS)
            return
        finished = sum(run.finished or run.problem is not None for run in runs)
        submitted = sum(len(run.submits) for run in runs)
        posts = sum(
            m.text.startswith("*Q") for m in w.slack.all_messages_newest_first(REVIEW_CHANNEL)
        )
        up = sum(m.process is not None and m.process.returncode is None for m in fleet.members)
        print(
            f"  … {time.monotonic() - began:4.0f} s: {finished}/{len(runs)} candidates done, "
            f"{submitted} answers submitted, {posts} posted; {up}/{len(fleet.members)} "
            f"processes up; load average {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
            flush=True,
        )


async def _drain(w: World, runs: list[CandidateRun], seconds: float) -> None:
    """Until every submitted answer is in Slack with its transcript and recording, or
    ``seconds`` passed (then the report counts what is missing)."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        check = measure(w.telegram, w.slack, runs).check
        if not (check.lost or check.pending or check.missing_files):
            return
        await asyncio.sleep(2.0)


@contextlib.contextmanager
def _database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the run on the server of ``admin_url``, dropped after."""
    import psycopg

    libpq = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"hirebot_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PROGRESS_SECONDS = 15.0
# The raw baseline transcribes this many of the run's answers (the same recordings).
RAW_ANSWERS = 24


def _raw_baseline(runs: list[CandidateRun], streams: int, per_process: int) -> dict[str, Any]:
    files = [str(r.path) for run in runs for r in run.recordings.values()][:RAW_ANSWERS]
    if not files:
        files = [str(ANSWERS[1].path), str(ANSWERS[2].path), str(VIDEO_NOTE.path)]
    spec = {"model": "tiny.en", "streams": streams, "per_process": per_process, "files": files}
    result: dict[str, Any] = run_json(
        "bot.bench.raw_whisper_run", json.dumps(spec), what="raw faster-whisper"
    )
    return {**result, "answers": len(files)}


def lines(result: Result) -> list[str]:
    """The report, as printed (and quoted in the README)."""
    o, f, s = result.options, result.figures, result.summary()
    check = f.check
    meets = "meets" if s["ack_p99_ms"] < TARGET_ACK_P99_MS else "MISSES"
    out = [
        f"hirebot bench load: {o.candidates} candidates, {o.reviewers} reviewers, topology "
        f"{o.topology} ({TOPOLOGIES[o.topology]}), faults {'on' if o.faults else 'off'}, "
        f"think × {o.behaviour.think_scale:g}, ramp {o.behaviour.ramp_seconds:g} s",
        f"  machine: {os.cpu_count()} cores, load average {result.load[0]:.1f} before, "
        f"{result.load[1]:.1f} after; {result.wall:.0f} s from the first invite to the last post",
        f"  candidate ack (update → first reply)  p50 {s['ack_p50_ms']:7.1f} ms  "
        f"p99 {s['ack_p99_ms']:7.1f} ms  n={s['acks']}  ({meets} p99 < {TARGET_ACK_P99_MS:.0f} ms)",
        f"    candidates' updates at the busiest: {s['peak_updates_per_second']:.1f} a second "
        f"over {PEAK_WINDOW_SECONDS:g} s",
        "    by what was sent: "
        + "; ".join(
            f"{kind} p50 {k['p50_ms']:.0f} ms p99 {k['p99_ms']:.0f} ms n={k['n']}"
            for kind, k in s["ack_by_kind"].items()
        ),
        f"    a button press → the bot's next message in that chat: p50 "
        f"{s['button_message_p50_ms']:.0f} ms p99 {s['button_message_p99_ms']:.0f} ms "
        f"n={len(f.button_message_seconds)}",
        f"  answer submitted → posted in Slack     p50 {s['post_p50_s']:7.2f} s   "
        f"p99 {s['post_p99_s']:7.2f} s   n={len(f.post_seconds)}",
        f"  answer submitted → transcript in Slack p50 {s['transcript_p50_s']:7.2f} s   "
        f"p99 {s['transcript_p99_s']:7.2f} s   n={len(f.transcript_seconds)}",
        f"  reviewer vote ack                      p50 "
        f"{percentile(result.votes.acks, 50) * 1000:7.1f} ms  p99 {s['vote_p99_ms']:7.1f} ms  "
        f"n={s['votes']}  failed {s['votes_failed']}",
    ]
    throughput = (
        f"  transcription {f.throughput:5.2f} audio s per wall s ({f.audio_seconds:.0f} s of "
        f"audio transcribed, first post to last transcript {f.transcription_window:.0f} s)"
    )
    if result.raw is not None:
        raw = s["raw_throughput"]
        share = f.throughput / raw if raw else 0
        verdict = "meets" if share >= TARGET_THROUGHPUT_SHARE else "misses"
        throughput += (
            f"; raw faster-whisper, {result.streams} at once on the same cores: {raw:5.2f} "
            f"({result.raw['answers']} answers): {share:.0%} ({verdict} ≥ "
            f"{TARGET_THROUGHPUT_SHARE:.0%})"
        )
    out.append(throughput)
    quiet = f.quiet_throughput
    if quiet is not None:
        speed, answers, window = quiet
        line = (
            f"    once the candidates were done: {speed:5.2f} audio s per wall s ({answers} "
            f"answers over {window:.0f} s)"
        )
        if result.raw is not None and s["raw_throughput"]:
            line += f": {speed / s['raw_throughput']:.0%} of raw"
        out.append(line)
    if result.cpu:
        cores = os.cpu_count() or 1
        available = cores * result.wall
        parts = sorted(result.cpu.items(), key=lambda part: -part[1])
        out.append(
            f"  CPU from the first invite to the last post ({cores} cores × {result.wall:.0f} s"
            f" = {available:.0f} core-s): "
            + ", ".join(
                f"{name} {seconds:.0f} s ({seconds / available:.0%})"
                for name, seconds in parts
                if seconds >= 0.5
            )
        )
    out.append(
        "  peak RSS: " + ", ".join(f"{role} {mb:.0f} MB" for role, mb in result.peaks.items())
    )
    for role, times in result.restarts.items():
        spread = ", ".join(f"{t:.1f}" for t in times)
        out.append(f"  {role} restarted {len(times)}× (seconds to healthy: {spread})")
    skipped = [f for f in result.faults if f.note.startswith("skipped")]
    for fault in result.faults:
        if fault not in skipped:
            out.append(f"  fault at {fault.line().strip()}")
    if skipped:
        out.append(f"  {len(skipped)} kills skipped: the one killed before was not back yet")
    answers = sum(len(run.submits) for run in result.runs)
    asked = sum(run.asked_again for run in result.runs)
    if asked:
        out.append(f"  the bot asked candidates to try again {asked}× (it gave up on an update)")
    out.append(
        f"  {answers} answers: lost {check.lost}, duplicated {check.duplicated}, without "
        f"transcript {check.without_transcript}, still pending {check.pending}, out of order "
        f"{check.out_of_order}, missing "
        f"recordings {check.missing_files}, stuck candidates {check.stuck}: "
        f"{'PASS' if check.passed else 'FAIL'}"
    )
    if check.resent_after_kill:
        out.append(
            f"    chat messages sent again after a kill -9 of a bot process: "
            f"{check.resent_after_kill} (at-least-once: the Bot API cannot be asked what was "
            f"sent; each one outbox row, with a kill between its copies)"
        )
    out += [f"    {problem}" for problem in check.problems[:20]]
    return out


def arguments(parser: argparse.ArgumentParser) -> None:
    """This bench's options: bot.bench.commands imports this module only when it is chosen."""
    behaviour = Behaviour()
    parser.add_argument("--candidates", type=int, default=200, help="at once (default 200)")
    parser.add_argument(
        "--topology", choices=[*TOPOLOGIES, "both"], default="sqlite", help="default sqlite"
    )
    parser.add_argument("--faults", action="store_true", help="kill, restart and cut meanwhile")
    parser.add_argument(
        "--think-scale",
        type=float,
        default=behaviour.think_scale,
        help="× every pause and recording (default 1; 0.1 for a quick run)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="seconds over which candidates start (default 30, with --faults 150)",
    )
    parser.add_argument("--reviewers", type=int, default=5, help="voting meanwhile (default 5)")
    parser.add_argument("--rerecords", type=float, default=behaviour.rerecord_rate)
    parser.add_argument("--duplicates", type=float, default=behaviour.duplicate_rate)
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="admin URL of the PostgreSQL server to use"
    )
    parser.add_argument(
        "--postgres-restart",
        default=None,
        help="command that restarts that server (--faults; default: pg_ctlcluster restart of "
        "this machine's cluster)",
    )
    parser.add_argument("--fault-every", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument(
        "--drain",
        type=float,
        default=Options.drain_seconds,
        help="seconds Slack may take after the last candidate (default 300)",
    )
    parser.add_argument("--no-raw", action="store_true", help="skip the raw faster-whisper run")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--logs", type=Path, default=None, help="keep the processes' logs here")
    parser.set_defaults(handler=_command)


def _command(args: argparse.Namespace) -> int:
    import logging

    logging.getLogger().setLevel(logging.WARNING)  # the figures, not the bot's chatter
    ramp = args.ramp if args.ramp is not None else (150.0 if args.faults else 30.0)
    behaviour = replace(
        Behaviour(),
        think_scale=args.think_scale,
        ramp_seconds=ramp,
        rerecord_rate=args.rerecords,
        duplicate_rate=args.duplicates,
    )
    topologies = list(TOPOLOGIES) if args.topology == "both" else [args.topology]
    passed = True
    for topology in topologies:
        options = Options(
            candidates=args.candidates,
            topology=topology,
            faults=args.faults,
            behaviour=behaviour,
            reviewers=args.reviewers,
            postgres=args.postgres,
            postgres_restart=args.postgres_restart or _cluster_restart(),
            fault_every=args.fault_every,
            drain_seconds=args.drain,
            raw_baseline=not args.no_raw,
            seed=args.seed,
            logs=args.logs / topology if args.logs else None,
        )
        if options.logs:
            options.logs.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(run(options))
        print("\n".join(lines(result)), flush=True)
        passed = passed and result.figures.check.passed
    return 0 if passed else 1


def _cluster_restart() -> str | None:
    """``pg_ctlcluster`` restart of this machine's one cluster (Debian, Ubuntu), if any."""
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    if not versions:
        return None
    return f"pg_ctlcluster --skip-systemctl-redirect {versions[-1].parent.name} main restart"
