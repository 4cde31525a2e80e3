"""Helpers for the hiring team's stories: cards, forms, a finished interview, a blind opening."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session

from bot.sandbox.slack import SlackMessage, SlackSandbox
from bot.sandbox.slack_api import UploadedFile
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import (
    OPENING_FILE,
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    World,
    answer_question,
    eventually,
)
from tests.helpers.stories import start_answering

T = TypeVar("T")


def db(world: World, work: Callable[[Session], T]) -> T:
    return world.bot.uow.run_sync(lambda session, _now: work(session))


async def card(world: World, index: int = 0) -> SlackMessage:
    """The candidate's parent message in the review channel, as it is now."""
    return await eventually(
        lambda: (world.slack.messages(REVIEW_CHANNEL) + [None] * (index + 1))[index],
        what=f"card {index}",
    )


async def finish_interview(world: World, candidate: SandboxCandidate, token: str) -> None:
    """The candidate agrees and answers both questions by voice."""
    await start_answering(world, candidate, token)
    for number in (1, 2):
        await answer_question(
            candidate, number, 2, lambda: candidate.send_voice(SAMPLES / "answer1.ogg")
        )
    await candidate.wait_for_message("submitted all 2 answers")


def blind_opening(world: World, tmp_path: Path) -> None:
    """Make the sample opening blind-reviewed, with its own rejection wording."""
    text = OPENING_FILE.read_text() + (
        "blind_review: true\n"
        "candidate_messages:\n"
        "  rejected: 'Dear {name}, {opening} went to someone else. Thank you!'\n"
    )
    path = tmp_path / "blind.yaml"
    path.write_text(text)
    world.import_opening(path)


def text_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def number_value(value: int) -> dict[str, Any]:
    return {"value": {"type": "number_input", "value": str(value)}}


def time_value(clock: str) -> dict[str, Any]:
    return {"value": {"type": "timepicker", "selected_time": clock}}


def users_value(*users: str) -> dict[str, Any]:
    return {"value": {"type": "multi_users_select", "selected_users": list(users)}}


def picked(value: str, kind: str = "static_select") -> dict[str, Any]:
    return {"value": {"type": kind, "selected_option": {"value": value}}}


def checked(*values: str) -> dict[str, Any]:
    options = [{"value": v} for v in values]
    return {"value": {"type": "checkboxes", "selected_options": options}}


def channel_value(channel: str) -> dict[str, Any]:
    return {"value": {"type": "conversations_select", "selected_conversation": channel}}


async def opened_view(world: World, callback_id: str, count: int = 1) -> dict[str, Any]:
    """The ``count``-th modal with ``callback_id`` the bot opened (waiting for it)."""

    def found() -> dict[str, Any] | None:
        views = [v for v in world.slack.views if v.get("callback_id") == callback_id]
        return views[count - 1] if len(views) >= count else None

    return await eventually(found, what=f"the {callback_id} form")


async def replies(world: World, parent: SlackMessage, count: int) -> list[SlackMessage]:
    """The thread under ``parent`` once it has ``count`` replies."""

    def found() -> list[SlackMessage] | None:
        thread = world.slack.thread(REVIEW_CHANNEL, parent.ts)
        return thread if len(thread) >= count else None

    return await eventually(found, what=f"{count} replies in the thread")


async def reject_through_form(
    world: World, who: str, count: int = 1, reason: str = "Not this time."
) -> None:
    """``/hire reject`` through its form, as a recruiter does (``count``: forms opened so far)."""
    await world.slack.teammate(RECRUITER).slash("/hire", f"reject {who}", REVIEW_CHANNEL)
    form = await opened_view(world, "reject", count)
    values = {"reason": text_value(reason), "message": text_value("Thank you!")}
    assert await world.slack.teammate(RECRUITER).submit_view(form, values) == 200


async def hire(world: World, user: str, text: str, channel: str = REVIEW_CHANNEL) -> str:
    """``/hire text`` typed by ``user`` in ``channel``: the ack's answer, or the one sent
    after the ack."""
    before = len([e for e in world.slack.ephemerals(user) if e["via"] == "response_url"])
    reply = await world.slack.teammate(user).slash("/hire", text, channel)
    assert reply.status == 200
    if reply.text:
        return reply.text

    def later() -> str | None:
        answers = [e for e in world.slack.ephemerals(user) if e["via"] == "response_url"]
        return str(answers[-1]["text"]) if len(answers) > before else None

    return await eventually(later, what=f"the answer to /hire {text}")


def human_message(
    sandbox: SlackSandbox,
    channel: str,
    user: str,
    text: str,
    files: list[UploadedFile] | None = None,
) -> SlackMessage:
    """A channel message a person posted (not hirebot), with ``files`` attached; stored in the
    workspace without any event, for a test to reply under or use a shortcut on."""
    return sandbox.store_message(
        SlackMessage(
            ts=sandbox.next_ts(),
            channel=channel,
            text=text,
            blocks=[],
            thread_ts=None,
            user=user,
            bot=False,
            files=files or [],
        )
    )
