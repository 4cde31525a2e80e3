"""``hirebot bench load --faults``: what goes wrong while the candidates interview.

Every ``every`` seconds a random bot process and a random worker get ``kill -9`` (the fleet
starts them again); at 1.5 × ``every`` PostgreSQL restarts (the topology's database server,
with the operator's restart command); at 2.5 × the S3 server is unreachable for 20 s; at
3.5 × Slack answers 503 for 60 s. Each fault's recovery is measured: a killed process until
it answers /health again; the database until every process does; S3 and Slack until the
review channel moves again (a post, an edit or a recording) after the fault ended.
"""

from __future__ import annotations

import asyncio
import random
import shlex
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.bench.load_fleet import Fleet, Member
from bot.sandbox.s3_server import Outage
from bot.sandbox.slack import SlackSandbox
from bot.sandbox.world import REVIEW_CHANNEL

S3_DOWN_SECONDS = 20.0
SLACK_DOWN_SECONDS = 60.0
RECOVERY_LIMIT_SECONDS = 300.0
LAST_RECOVERY_SECONDS = 60.0

Check = Callable[[], Awaitable[bool]]


@dataclass
class Fault:
    what: str
    at: float  # seconds since the candidates started
    lasted: float
    recovery: float | None = None  # seconds from the fault's end until things moved again
    note: str = ""

    def line(self) -> str:
        if self.note.startswith("skipped"):
            return f"{self.at:6.0f} s  {self.what}: {self.note}"
        recovered = (
            f"recovered in {self.recovery:5.1f} s"
            if self.recovery is not None
            else "recovery not seen"
        )
        lasted = f" for {self.lasted:.0f} s" if self.lasted >= 1 else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.at:6.0f} s  {self.what}{lasted}: {recovered}{note}"


class Faults:
    def __init__(
        self,
        fleet: Fleet,
        slack: SlackSandbox,
        *,
        every: float,
        s3: Outage | None,
        postgres_restart: str | None,
        rng: random.Random,
        origin: float,
    ) -> None:
        """``origin``: the run's start (``time.monotonic()``), from which faults are reported,
        as the messages are (the faults themselves start counting when ``run`` starts)."""
        self.fleet = fleet
        self.slack = slack
        self.every = every
        self.s3 = s3
        self.postgres_restart = postgres_restart
        self.rng = rng
        self.found: list[Fault] = []
        self._began = origin
        self._pending: set[asyncio.Task[None]] = set()

    async def run(self, done: asyncio.Event) -> list[Fault]:
        schedule = [(1.5, self._restart_postgres), (2.5, self._s3_down), (3.5, self._slack_down)]
        tasks = [
            asyncio.create_task(self._at(factor * self.every, fault, done))
            for factor, fault in schedule
        ]
        tasks.append(asyncio.create_task(self._kills(done)))
        await done.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Everything reached Slack by now: a recovery not seen yet will not be (nothing is
        # left to move); a process still restarting gets a few seconds.
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=LAST_RECOVERY_SECONDS)
        for task in list(self._pending):
            task.cancel()
        return sorted(self.found, key=lambda f: f.at)

    def _now(self) -> float:
        return time.monotonic() - self._began

    async def _at(
        self, seconds: float, fault: Callable[[], Awaitable[None]], done: asyncio.Event
    ) -> None:
        try:
            await asyncio.wait_for(done.wait(), seconds)
        except TimeoutError:
            await fault()

    async def _kills(self, done: asyncio.Event) -> None:
        while True:
            try:
                await asyncio.wait_for(done.wait(), self.every)
                return
            except TimeoutError:
                pass
            for kind in ("run", "worker"):
                members = self.fleet.of(kind)
                if not members:
                    continue
                member = self.rng.choice(members)
                if any(m.restarting for m in members):
                    # One of them is still coming back from the last kill: killing the other
                    # too would test a total outage, not a failover.
                    self.found.append(
                        Fault(
                            f"kill -9 {member.role}",
                            self._now(),
                            0.0,
                            note="skipped: the last one killed is not back yet",
                        )
                    )
                    continue
                fault = Fault(f"kill -9 {member.role}", self._now(), 0.0)
                self.found.append(fault)
                restarts = len(member.restarts)
                self.fleet.kill(member)
                self._recover(fault, _restarted(member, restarts))

    async def _restart_postgres(self) -> None:
        if self.postgres_restart is None:
            return
        fault = Fault("PostgreSQL restart", self._now(), 0.0)
        self.found.append(fault)
        began = time.monotonic()
        done = await asyncio.to_thread(
            subprocess.run,
            shlex.split(self.postgres_restart),
            capture_output=True,
            text=True,
            check=False,
        )
        fault.lasted = time.monotonic() - began
        if done.returncode != 0:
            fault.note = f"the restart command failed: {done.stderr.strip()[-200:]}"
            return
        self._recover(fault, self.fleet.all_healthy)

    async def _s3_down(self) -> None:
        if self.s3 is None:
            return
        fault = Fault("S3 unreachable", self._now(), S3_DOWN_SECONDS)
        self.found.append(fault)
        await asyncio.to_thread(self.s3.down)
        await asyncio.sleep(S3_DOWN_SECONDS)
        await asyncio.to_thread(self.s3.up)
        self._recover(fault, self._review_moved())

    async def _slack_down(self) -> None:
        fault = Fault("Slack answers 503", self._now(), SLACK_DOWN_SECONDS)
        self.found.append(fault)
        self.slack.outage(SLACK_DOWN_SECONDS)
        await asyncio.sleep(SLACK_DOWN_SECONDS)
        fault.note = f"{self.slack.unavailable_answers} calls refused"
        self._recover(fault, self._review_moved())

    def _review_moved(self) -> Check:
        before = _review_progress(self.slack)

        async def moved() -> bool:
            return _review_progress(self.slack) > before

        return moved

    def _recover(self, fault: Fault, check: Check) -> None:
        async def watch() -> None:
            began = time.monotonic()
            while time.monotonic() - began < RECOVERY_LIMIT_SECONDS:
                if await check():
                    fault.recovery = time.monotonic() - began
                    return
                await asyncio.sleep(0.25)

        task = asyncio.create_task(watch())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def _restarted(member: Member, restarts: int) -> Check:
    async def back() -> bool:
        return len(member.restarts) > restarts

    return back


def _review_progress(slack: SlackSandbox) -> int:
    """Posts, edits and recordings in the review channel so far: grows while it works."""
    messages = slack.all_messages_newest_first(REVIEW_CHANNEL)
    return len(slack.files) + sum(1 + m.edits for m in messages)
