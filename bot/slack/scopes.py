"""The bot-token scopes hirebot uses; ``slack-app-manifest.yaml`` requests exactly these (a
test holds them together) and ``hirebot doctor`` names any an installation lacks."""

from __future__ import annotations

BOT_SCOPES = frozenset(
    {
        "chat:write",  # cards, thread replies, DMs, ephemeral reveals
        "commands",  # /hire
        "files:write",  # recordings in threads, exports in DMs; deleting them on erasure
        "files:read",  # download a clip a recruiter sends to a candidate (Send to candidate)
        "im:write",  # open the DM for an export
        "channels:history",  # teammates' replies in candidate threads (public channels)
        "groups:history",  # … and in private review channels
        "im:history",  # a recruiter's preview thread in their DM: found again, cleared
        "channels:read",  # who reviews (public channel members); member_joined_channel; doctor
        "groups:read",  # … the same for private review channels
        "metadata.message:read",  # find our own replies again after a crash
        "users:read",  # an interviewer's time zone (hours form), their name (invitations)
        "users:read.email",  # … and their email, where calendar invitations go
    }
)
