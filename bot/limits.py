"""hirebot's limits, named. Code never uses these numbers bare."""

from __future__ import annotations

from enum import IntEnum


class FileLimit(IntEnum):
    # The public Bot API refuses getFile above 20 MB; a local Bot API server lifts it.
    TELEGRAM_DOWNLOAD_BYTES = 20 * 1024 * 1024


class InviteLimit(IntEnum):
    # Telegram deep links allow 64 characters of [A-Za-z0-9_-] after ?start=.
    TOKEN_BYTES = 32  # 43 url-safe base64 characters
    DEEP_LINK_LENGTH = 64
    DEFAULT_DEADLINE_DAYS = 7


class QuestionDefaults(IntEnum):
    PREP_SECONDS = 30
    ANSWER_SECONDS = 120
    MAX_TAKES = 3
    PRACTICE_ANSWER_SECONDS = 60
    # Telegram reports whole seconds and recording starts a moment after the tap: a take
    # within this many seconds of a limit is within it.
    GRACE_SECONDS = 2


class ReminderLimit(IntEnum):
    # No reminder between these local hours (candidate's time zone, else the opening's).
    QUIET_FROM_HOUR = 21
    QUIET_UNTIL_HOUR = 8
    TICK_SECONDS = 60
    # A stored file no answer refers to (a replaced take, a refused answer, a crash between
    # storing and committing) is deleted once it is this old.
    ORPHAN_MEDIA_MINUTES = 30


class DeliveryLimit(IntEnum):
    # Outbox: first retry after 1 s, doubling up to 5 minutes, or exactly when the platform's
    # Retry-After says. A platform that refuses or is down delays posts, it loses none: the
    # recruiters are told once a row has been tried REPORT_AFTER_ATTEMPTS times. Only a row
    # that fails in ways hirebot does not understand (a bug) is given up, after MAX_ATTEMPTS.
    FIRST_BACKOFF_SECONDS = 1
    MAX_BACKOFF_SECONDS = 300
    REPORT_AFTER_ATTEMPTS = 10
    MAX_ATTEMPTS = 20
    LEASE_SECONDS = 60
    BATCH = 20


class TranscriptionLimit(IntEnum):
    MAX_ATTEMPTS = 3
    # Longer than any answer takes (a 10-minute video on 2 cores: about a minute), so a live
    # worker never loses its job; short enough that a crash delays a transcript by minutes.
    LEASE_SECONDS = 600
    # Retry after 5 s, then 10 s, 20 s… at most 5 minutes.
    FIRST_BACKOFF_SECONDS = 5
    MAX_BACKOFF_SECONDS = 300


class ReviewLimit(IntEnum):
    SCORE_MIN = 1
    SCORE_MAX = 5
    # Slack refuses chat.postMessage text above 40,000 characters; leave room for the header.
    THREAD_TEXT_CHARS = 39_000
    EXTENSION_DEFAULT_DAYS = 3
    EXTENSION_MAX_DAYS = 30
    RECENT_DECISIONS = 10
    EXTRA_TIME_MAX_FACTOR = 3  # /hire invite … time=1.5 (accessibility): at most 3× the limits


class SlackUploadLimit(IntEnum):
    # A file upload's timeout is the base plus its size at a conservative 1 Mbit/s, so a
    # 20 MB recording on a slow uplink is not cut off by the 30 s that suits API calls.
    BASE_TIMEOUT_SECONDS = 30
    BYTES_PER_SECOND = 128 * 1024


class SlackLimit(IntEnum):
    # How long a review channel's member list is trusted before Slack is asked again: short
    # enough that leaving a channel soon hides its candidates, long enough to keep acks fast.
    MEMBERS_CACHE_SECONDS = 30


class InboxLimit(IntEnum):
    # An update whose handling fails (or kills the process) is tried this many times in all,
    # then recorded as failed and the candidate is asked to try again.
    MAX_ATTEMPTS = 3
    FIRST_BACKOFF_SECONDS = 1
    # Short, renewed while the update is handled: after a crash, another process (or the
    # restarted one) takes the update over within seconds.
    LEASE_SECONDS = 10
    LEASE_RENEW_SECONDS = 3
    # Updates of different chats handled at once; one chat's updates always one at a time.
    CONCURRENT_CHATS = 8
    # A handler still busy after this long is given up on (and retried), so a hung call
    # cannot hold a candidate's chat forever.
    HANDLE_SECONDS = 600
    # Settled updates (ids and outcomes, no content) are forgotten after this many days;
    # longer than Telegram keeps an unconfirmed update (24 h).
    KEEP_DAYS = 7
    # Polling: a failed getUpdates is retried after 1 s, doubling up to 30 s.
    POLL_FIRST_BACKOFF_SECONDS = 1
    POLL_MAX_BACKOFF_SECONDS = 30


class ButtonLimit(IntEnum):
    # Telegram refuses an inline button whose callback_data is over 64 bytes.
    CALLBACK_DATA_BYTES = 64
