"""Every Bolt listener, one module per kind, each registered by its ``register``.

As in bolt-python's app templates: ``commands`` (``/hire``), ``actions`` (buttons), ``views``
(form submissions), ``events`` (thread replies, the bot joining a channel), ``home`` (the App
Home tab and its "Set my interview hours" button), ``sharing`` (the card's Share form, and
revoking a share link). What they share (re-delivery keys, the
recruiter check) is in ``requests``.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.async_app import AsyncApp

from bot.calendar_feed import FeedReads
from bot.slack.hire import HireCommands
from bot.slack.listeners import actions, commands, events, home, intros, relay, sharing, views
from bot.slack.membership import ChannelMembers, Viewers
from bot.slack.profiles import SlackProfiles
from bot.unit_of_work import UnitOfWork


def register(
    app: AsyncApp,
    uow: UnitOfWork,
    *,
    hire_commands: HireCommands,
    viewers: Viewers,
    profiles: SlackProfiles,
    feeds: FeedReads | None,
    members: ChannelMembers,
    share_address: Callable[[str], str],
) -> None:
    commands.register(app, hire_commands)
    actions.register(app, uow)
    views.register(app, uow, feeds)
    events.register(app, uow)
    home.register(app, uow, viewers, profiles)
    relay.register(app, uow)
    sharing.register(app, uow, members, share_address)
    intros.register(app, uow)
