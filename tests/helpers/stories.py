"""Helpers for stories that run through the whole world."""

from __future__ import annotations

from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import INVITE_LINK, RECRUITER, REVIEW_CHANNEL, World


async def invite(world: World, name: str = "Jane Doe") -> str:
    """The recruiter invites ``name``; returns the invite token from the deep link."""
    reply = await world.slack.teammate(RECRUITER).slash(
        "/hire", f"invite backend-engineer {name}", REVIEW_CHANNEL
    )
    link = INVITE_LINK.search(reply.text or "")
    assert link is not None, reply.text
    return link.group(2)


async def start_answering(
    world: World, candidate: SandboxCandidate, token: str, total: int = 2
) -> None:
    """The candidate opens the link and agrees; question 1's intro is waiting."""
    await candidate.send_command("/start", token)
    await candidate.press("I agree", await candidate.wait_for_message("Do you agree?"))
    await candidate.wait_for_message(f"Question 1 of {total}.")
