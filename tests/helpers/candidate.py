"""The three-question opening the candidate stories use, and their first steps."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlmodel import col, select

from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import World
from storage.models import Answer
from tests.helpers.stories import invite, start_answering

THREE_KINDS = """
slug: backend-engineer
title: Backend Engineer
review_channel: C0REVIEW01
strict_limits: {strict}
questions:
  - text: Tell us about a system you built.
    answer_seconds: 10
    max_takes: 2
  - text: How do you handle disagreement?
  - text: Show us something you made.
"""


def three_question_opening(tmp_path: Path, strict: bool = True, body: str = THREE_KINDS) -> Path:
    """The opening file ``body`` (strict or soft limits), written under ``tmp_path``."""
    path = tmp_path / "opening.yaml"
    path.write_text(textwrap.dedent(body).format(strict=str(strict).lower()))
    return path


async def begin_three_questions(
    w: World, user_id: int = 700_100, language: str = "en"
) -> SandboxCandidate:
    """Jane is invited, has agreed, and question 1 of 3 is waiting."""
    jane = w.telegram.candidate(user_id, "Jane", "Doe", language_code=language)
    await start_answering(w, jane, await invite(w), total=3)
    return jane


def answers_stored(w: World) -> list[Answer]:
    """Every answer row, every take, oldest first."""
    return list(
        w.bot.uow.run_sync(lambda s, _now: s.exec(select(Answer).order_by(col(Answer.id))).all())
    )
