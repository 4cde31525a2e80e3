"""The App Home tab: openings with counts per stage, what waits for my vote, recent decisions.

``Home`` holds plain values (titles, names) and decision lines that are mrkdwn already."""

from __future__ import annotations

from typing import Any

from bot.flows.escaping import mrkdwn
from bot.flows.moments import format_deadline
from bot.flows.reports import Home

Block = dict[str, Any]
# Slack allows 100 blocks in a Home view; each list keeps well inside that.
_LIST_ROWS = 25
SET_HOURS = "set_interview_hours"  # the button's action_id: opens the interview-hours form


def home_view(home: Home) -> Block:
    blocks: list[Block] = [_header("Openings")]
    if not home.openings and home.recruiter:
        blocks.append(_text("No openings yet: `/hire opening new` creates one."))
    elif not home.openings:
        blocks.append(_text("None to show: you see the openings whose review channel you are in."))
    for opening in home.openings[:_LIST_ROWS]:
        stages = (
            ", ".join(f"{mrkdwn(stage)} {n}" for stage, n in opening.by_stage.items())
            or "nobody yet"
        )
        blocks.append(
            _text(
                f"*{mrkdwn(opening.title)}* (`{opening.slug}`, <#{opening.channel}>)\n"
                f"{stages} · {opening.in_progress} still answering"
            )
        )
    blocks += [{"type": "divider"}, _header("Waiting for your vote")]
    if not home.waiting_for_me:
        blocks.append(_text("Nothing waits for you. 🎉"))
    for waiting in home.waiting_for_me[:_LIST_ROWS]:
        blocks.append(
            _text(
                f"*{mrkdwn(waiting.label)}* · {mrkdwn(waiting.opening)} · completed "
                f"{format_deadline(waiting.completed_at)}"
            )
        )
    blocks += [{"type": "divider"}, _header("Recent decisions")]
    if not home.recent:
        blocks.append(_text("No decisions yet."))
    for decision in home.recent:
        blocks.append(
            _text(f"*{mrkdwn(decision.label)}* · {mrkdwn(decision.opening)}\n{decision.line}")
        )
    blocks += [
        {"type": "divider"},
        _header("Live interviews"),
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Interviewing candidates? Set the hours they may book you in.",
            },
            "accessory": {
                "type": "button",
                "action_id": SET_HOURS,
                "text": {"type": "plain_text", "text": "Set my interview hours"},
            },
        },
    ]
    return {"type": "home", "blocks": blocks}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _text(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
