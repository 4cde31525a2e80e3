"""The processes ``hirebot bench load`` runs the bot as, watched like a supervisor would.

Topology ``sqlite``: one ``hirebot run`` on a SQLite file, polling Telegram, media on its
disk, transcribing in its own threads: the embedded default. Topology ``postgres``: two
``hirebot run`` behind a load balancer (Telegram webhook) and two ``hirebot worker`` on one
PostgreSQL, media in an S3 bucket (moto's server, behind a relay that a fault takes down):
the reference deployment of compose.yaml, as plain processes on this machine.

Every process is restarted when it exits (compose's ``restart: always``); its peak RSS is
read from /proc (VmHWM) twice a second, so a process killed with SIGKILL keeps its figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientError, ClientSession, ClientTimeout

from bot.sandbox.processes import start_bot_process
from bot.sandbox.world import World, free_port
from bot.transcription.apart import PROCESS_NAME as APART_NAME
from bot.transcription.jobs import WHISPER_THREADS

WATCH_SECONDS = 0.5
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# What a process's CPU time is spent on: the transcription threads (bot.transcription.jobs
# names them for the OS, and the threads CTranslate2 starts from them inherit the name); the
# main thread, which runs the event loop; its other threads (database transactions, storing
# media, numpy's BLAS threads); its media processes (bot.transcription.pool); its
# transcription processes, all of them (bot.transcription.apart, named like the threads).
WHISPER, LOOP, REST, MEDIA = "whisper", "event loop", "other threads", "media processes"
APART = "transcription process"


@dataclass
class Member:
    """One supervised process: a bot or a worker."""

    role: str
    command: tuple[str, ...]
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None
    peak_mb: float = 0.0
    # Its child processes by kind (MEDIA, APART), each kind together at the most seen at once.
    helpers_peak_mb: dict[str, float] = field(default_factory=dict)
    killed_at: list[float] = field(default_factory=list)  # time.monotonic() of each kill -9
    restarts: list[float] = field(default_factory=list)  # seconds from exit to healthy again
    restarting: bool = False
    # CPU seconds of every thread and child process it ever had, restarts included, as last
    # read: (pid, tid, start time) → (WHISPER, LOOP, REST, MEDIA or APART, seconds).
    cpu_seen: dict[tuple[int, int, int], tuple[str, float]] = field(default_factory=dict)

    def sample(self) -> None:
        if self.process is not None and self.process.returncode is None:
            pid = self.process.pid
            self.peak_mb = max(self.peak_mb, _peak_mb(pid))
            for tid, name, started, seconds in read_cpu(f"/proc/{pid}/task/*/stat"):
                part = (
                    WHISPER if name.startswith(WHISPER_THREADS) else (LOOP if tid == pid else REST)
                )
                self.cpu_seen[pid, tid, started] = (part, seconds)
            helpers: dict[str, float] = {}
            for child in children_of(pid):
                for _, name, started, seconds in read_cpu(f"/proc/{child}/stat"):
                    kind = APART if name == APART_NAME else MEDIA
                    self.cpu_seen[child, 0, started] = (kind, seconds)
                    helpers[kind] = helpers.get(kind, 0.0) + _status_mb(child, "VmRSS:")
            for kind, mb in helpers.items():
                self.helpers_peak_mb[kind] = max(self.helpers_peak_mb.get(kind, 0.0), mb)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far by part: compare two readings for a window."""
        parts: dict[str, float] = {}
        for part, seconds in self.cpu_seen.values():
            parts[part] = parts.get(part, 0.0) + seconds
        return parts


def read_cpu(pattern: str) -> list[tuple[int, str, int, float]]:
    """(tid, name, start time in ticks, user + system seconds) of each /proc stat file
    matching ``pattern`` (proc(5): the name is in parentheses and may hold spaces)."""
    found = []
    for path in Path("/").glob(pattern.lstrip("/")):
        try:
            stat = path.read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # Fields 14, 15 and 22 of proc(5) (utime, stime, starttime); these start at field 3.
        found.append(
            (
                int(stat.split()[0]),
                name,
                int(fields[19]),
                (int(fields[11]) + int(fields[12])) / TICKS,
            )
        )
    return found


def _peak_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM:")


def _status_mb(pid: int, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux: /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in children.read_text().split()]
    return found


class Fleet:
    """The bot and worker processes of one run; ``async with`` starts and stops them."""

    def __init__(
        self,
        world: World,
        folder: Path,
        *,
        bots: int,
        workers: int,
        environment: dict[str, str] | None = None,
        bot_ports: list[int] | None = None,
    ) -> None:
        self.world = world
        self.environment = environment or {}
        ports = bot_ports or [free_port() for _ in range(bots)]
        self.members = [
            Member(f"bot-{i + 1}", ("run",), ports[i], folder / f"bot-{i + 1}.log")
            for i in range(bots)
        ] + [
            Member(f"worker-{i + 1}", ("worker",), free_port(), folder / f"worker-{i + 1}.log")
            for i in range(workers)
        ]
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None
        self._restarts: set[asyncio.Task[None]] = set()
        # This machine's PostgreSQL processes, read like the members' threads (a server
        # elsewhere reads nothing): (pid, start time) → CPU seconds.
        self._postgres: dict[tuple[int, int], float] = {}

    def sample(self) -> None:
        for member in self.members:
            member.sample()
        for pid, name, started, seconds in read_cpu("/proc/[0-9]*/stat"):
            if name == "postgres":
                self._postgres[pid, started] = seconds

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far: "<role> <part>" for each member, "postgres"."""
        found = {
            f"{member.role} {part}": seconds
            for member in self.members
            for part, seconds in member.cpu_seconds().items()
        }
        found["postgres"] = sum(self._postgres.values())
        return found

    def of(self, kind: str) -> list[Member]:
        return [m for m in self.members if m.command[0] == kind]

    async def __aenter__(self) -> Fleet:
        # One at a time: each migrates and loads Whisper, and the machine has few cores.
        for member in self.members:
            await self._start(member)
        self._watcher = asyncio.create_task(self._watch(), name="fleet-watch")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for task in list(self._restarts):
            task.cancel()
        for member in self.members:
            member.sample()
            process = member.process
            if process is not None and process.returncode is None:
                process.terminate()
        for member in self.members:
            process = member.process
            if process is None:
                continue
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()

    async def _start(self, member: Member) -> None:
        member.process = await start_bot_process(
            self.world,
            member.log,
            http_port=member.port,
            environment=self.environment,
            command=member.command,
        )

    def kill(self, member: Member) -> None:
        """``kill -9``: no clean-up, no goodbye; the watcher starts it again."""
        if member.process is not None and member.process.returncode is None:
            member.sample()
            member.killed_at.append(time.monotonic())
            os.kill(member.process.pid, signal.SIGKILL)

    async def _watch(self) -> None:
        while not self._stopping:
            self.sample()
            for member in self.members:
                process = member.process
                exited = process is not None and process.returncode is not None
                if exited and not member.restarting:
                    member.restarting = True
                    task = asyncio.create_task(self._restart(member))
                    self._restarts.add(task)
                    task.add_done_callback(self._restarts.discard)
            await asyncio.sleep(WATCH_SECONDS)

    async def _restart(self, member: Member) -> None:
        began = time.monotonic()
        try:
            while not self._stopping:
                try:
                    await self._start(member)
                    member.restarts.append(time.monotonic() - began)
                    return
                except RuntimeError:  # it did not come up (say, the database restarting)
                    if member.process is not None and member.process.returncode is None:
                        member.process.kill()
                        await member.process.wait()
                    await asyncio.sleep(1.0)
        finally:
            member.restarting = False

    async def all_healthy(self) -> bool:
        """Whether every process answers ``/health`` with 200 right now."""
        async with ClientSession(timeout=ClientTimeout(total=5)) as http:
            for member in self.members:
                try:
                    async with http.get(f"http://127.0.0.1:{member.port}/health") as answer:
                        if answer.status != 200:
                            return False
                except (ClientError, TimeoutError):
                    return False
        return True
