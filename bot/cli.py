"""``hirebot`` — run | worker | demo | migrate | openings | audit | export | doctor | purge |
bench…"""

# This module is what every ``hirebot`` command imports first, so it imports only what
# building the parser needs (``hirebot --help`` answers at once): each command imports its
# own modules when it runs (the settings, the database, Bolt and PTB, Whisper, the sandbox
# and the benchmarks). tests/test_cli_imports.py keeps it that way.
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import HirebotError
from bot.transcription import cli as transcribe_command

if TYPE_CHECKING:
    from bot.config import Settings

# Every hirebot process logs alike (the transcription process too: bot.transcription.apart).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        # The benches' own parser, so that their modules (numpy, PyAV, the sandbox and
        # through it the whole runtime) load for ``hirebot bench`` only.
        from bot.bench.commands import parse as parse_bench

        args = parse_bench(argv[1:])
    else:
        args = _parser().parse_args(argv)

    # The demo prints the conversation itself; only problems should interrupt it.
    level = logging.WARNING if args.command == "demo" else logging.INFO
    logging.basicConfig(level=level, format=LOG_FORMAT)
    if args.command == "demo":
        for chatty in ("faster_whisper", "apscheduler", "telegram", "slack_bolt"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        if hasattr(args, "handler"):
            handled: int = args.handler(args)
            return handled
        if args.command == "run":
            return _run(_settings())
        if args.command == "demo":
            import asyncio

            from bot.demo import play

            code: int = asyncio.run(play(verbose=not args.quiet))
            return code
        if args.command == "migrate":
            return _migrate(_settings())
        if args.command == "openings":
            return _import_openings(_settings(), args.files)
    except HirebotError as err:
        print(f"hirebot: {err}", file=sys.stderr)
        return 2
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hirebot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot with real Slack and Telegram tokens")
    demo = commands.add_parser("demo", help="play a whole interview against local emulators")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    commands.add_parser("migrate", help="apply database migrations")
    openings = commands.add_parser("openings", help="manage openings")
    openings_sub = openings.add_subparsers(dest="openings_command", required=True)
    load = openings_sub.add_parser("import", help="create or update openings from YAML files")
    load.add_argument("files", nargs="+", type=Path)
    audit = commands.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_export = audit_sub.add_parser(
        "export", help="write the audit trail as JSON Lines to stdout, oldest first"
    )
    audit_export.add_argument(
        "--since", required=True, type=_day, help="first day (UTC) to include, YYYY-MM-DD"
    )
    audit_export.set_defaults(handler=lambda args: _export_audit(_settings(), args.since))
    export = commands.add_parser(
        "export", help="write every candidate (of one opening) to stdout as CSV or JSON"
    )
    export.add_argument("opening", nargs="?", help="the opening's slug (default: all)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.set_defaults(handler=lambda args: _export(_settings(), args.opening, args.format))
    doctor = commands.add_parser("doctor", help="check tokens, database, data dir, Whisper")
    doctor.set_defaults(handler=lambda _args: _doctor(_settings()))
    purge = commands.add_parser(
        "purge", help="erase the candidates past their opening's retention now"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="list what would be erased, change nothing"
    )
    purge.set_defaults(handler=lambda args: _purge(_settings(), dry_run=args.dry_run))
    _worker_parser(commands)
    # Commands that register themselves set a ``handler`` to call with the parsed arguments.
    transcribe_command.register(commands)
    # Listed here for --help only: main() hands ``hirebot bench …`` to the benches' parser.
    commands.add_parser("bench", help="measure speed, accuracy and memory (hirebot bench -h)")
    return parser


def _worker_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser(
        "worker", help="transcribe answers from the shared PostgreSQL (any machine, any number)"
    )
    worker.add_argument(
        "--queues", default="transcription", help="comma-separated queues (default: transcription)"
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="answers at once (default: HIREBOT_WHISPER_WORKERS, else one per 4 cores)",
    )
    worker.add_argument(
        "--health-port",
        type=int,
        default=None,
        help="GET /health here (default: HIREBOT_HTTP_PORT)",
    )
    worker.add_argument(
        "--check",
        action="store_true",
        help="ask this machine's running worker whether it is healthy",
    )
    worker.set_defaults(handler=lambda args: _worker(_settings(), args))


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    from bot.errors import described

    if args.check:
        from bot.worker import check

        healthy, said = check(settings.http_host, args.health_port or settings.http_port)
        print(said)
        return 0 if healthy else 1

    from bot.worker import WorkerProcess

    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    process = WorkerProcess(
        settings, queues=queues, concurrency=args.concurrency, health_port=args.health_port
    )

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with process:
            # A signal, or the worker itself stopping (the database gone for good): then
            # exit non-zero so that a supervisor restarts it.
            signalled = asyncio.create_task(stop.wait())
            worker = asyncio.create_task(process.stopped())
            await asyncio.wait([signalled, worker], return_when=asyncio.FIRST_COMPLETED)
            if worker.done():
                signalled.cancel()
                error = worker.exception()
                why = described(error) if error is not None else "it returned"
                raise HirebotError(f"the transcription worker stopped: {why}")
            worker.cancel()

    asyncio.run(serve())
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-01-31") from None


def _export_audit(settings: Settings, since: date) -> int:
    from datetime import UTC, datetime, time

    from sqlmodel import Session

    from bot.flows import audit_trail
    from storage.db import make_engine

    engine = make_engine(settings.db_url)
    try:
        with Session(engine) as session:
            start = datetime.combine(since, time(), tzinfo=UTC)
            for line in audit_trail.export_lines(session, since=start):
                sys.stdout.write(line + "\n")
    finally:
        engine.dispose()
    return 0


def _export(settings: Settings, opening: str | None, fmt: str) -> int:
    """``/hire export`` for the server's operator: the same rows, recorded in the trail."""
    from sqlmodel import Session

    from bot.flows import audit, reports
    from bot.unit_of_work import utc_now
    from storage.db import make_engine

    engine = make_engine(settings.db_url)
    try:
        with Session(engine) as session:
            content, count = reports.export(session, opening, fmt)
            now = utc_now()
            audit.exported(
                session, by=audit.OPERATOR, opening_slug=opening, rows=count, now=now, fmt=fmt
            )
            session.commit()
    finally:
        engine.dispose()
    sys.stdout.write(content)
    return 0


def _settings() -> Settings:
    # pydantic-settings takes a noticeable part of a second to import: only commands that
    # read the settings pay for it.
    from bot.config import Settings

    return Settings()


def _run(settings: Settings) -> int:
    import asyncio
    import contextlib
    import signal

    from bot.runtime import Runtime

    settings.check_for_run()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with Runtime(settings):
            await stop.wait()

    asyncio.run(serve())
    return 0


def _doctor(settings: Settings) -> int:
    import asyncio

    from bot.doctor import diagnose, report

    checks = asyncio.run(diagnose(settings))
    print(report(checks))
    return 0 if all(c.ok for c in checks) else 1


def _purge(settings: Settings, *, dry_run: bool) -> int:
    """What retention would erase (interview ids, openings, dates: no names), or erase it."""
    from bot.flows import retention
    from bot.unit_of_work import opened
    from storage import migrate
    from storage.media import media_store

    migrate.upgrade(settings.db_url)
    ceiling = settings.retention_max_days
    store = media_store(settings.media_dir, settings.media_bucket)
    with opened(settings.db_url, store) as uow:
        found = uow.run_sync(lambda s, now: retention.due(s, now, ceiling, limit=1_000_000))
        if not found:
            print("nothing is past its retention")
            return 0
        if dry_run:
            print(f"{len(found)} interview(s) past their retention would be erased:")
            for each in found:
                print(f"  {each.line}")
            return 0
        erased = 0
        for each in found:
            done = uow.run_sync(retention.eraser(each.interview_id, ceiling))
            if done is not None:
                erased += 1
                print(f"  erased {done.line}")
            else:
                # Same person as one erased above (it went with them), or another interview
                # of theirs is still open (they stay until it expires too).
                print(f"  #{each.interview_id}: not erased on its own (see above, or still open)")
        print(f"erased {erased} of {len(found)}")
    return 0


def _migrate(settings: Settings) -> int:
    from storage import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.db_url)
    print(f"database is at revision {migrate.current(settings.db_url)}")
    return 0


def _import_openings(settings: Settings, files: list[Path]) -> int:
    from datetime import datetime

    from sqlmodel import Session

    from bot.flows import interviewer_setup, openings
    from bot.flows.openings import OpeningSpec
    from bot.media import intros
    from bot.unit_of_work import opened
    from storage import migrate
    from storage.media import media_store
    from storage.models import Opening

    specs = [openings.parse(path) for path in files]  # all valid before any is saved
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.db_url)
    # The configured store (a bucket too): the bot processes read the clips from it.
    with opened(settings.db_url, media_store(settings.media_dir, settings.media_bucket)) as uow:
        clips = [intros.prepare(uow, spec) for spec in specs]  # all converted before saving
        for spec, prepared in zip(specs, clips, strict=True):

            def save(
                session: Session,
                now: datetime,
                spec: OpeningSpec = spec,
                prepared: intros.Prepared = prepared,
            ) -> tuple[Opening, bool, list[str], list[str]]:
                opening, created = openings.save(session, spec, now)
                said = intros.apply(session, opening, prepared, now)
                return opening, created, interviewer_setup.missing_hours(session, opening), said

            opening, created, missing, said = uow.run_sync(save)
            verb = "created" if created else "updated"
            print(
                f"{verb} opening {opening.slug}: {opening.title} ({len(spec.questions)} questions)"
            )
            print("".join(f"  {line}\n" for line in said), end="")
            if missing:
                print(
                    f"  no interview hours yet for {', '.join(missing)}: each sets theirs with "
                    "/hire availability in Slack before candidates can book them"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
