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


class OpeningLimit(IntEnum):
    """What an opening may ask for: checked on import and offered as the form's bounds."""

    PREP_SECONDS_MAX = 600
    ANSWER_SECONDS_MIN = 10
    ANSWER_SECONDS_MAX = 1800
    TAKES_MIN = 1
    TAKES_MAX = 10
    DEADLINE_DAYS_MIN = 1
    DEADLINE_DAYS_MAX = 90
    RESPOND_WITHIN_DAYS_MAX = 60
    TITLE_CHARS = 100  # the form's limit; a file's title is not bounded
    # Interviewers named on one opening: a panel of more would never find a common slot.
    INTERVIEWERS_MAX = 10
    # Days a decided candidate's data is kept (issue 12); HIREBOT_RETENTION_MAX_DAYS caps it.
    RETENTION_DAYS_MIN = 1
    RETENTION_DAYS_DEFAULT = 180
    RETENTION_DAYS_MAX = 3650


class ReminderLimit(IntEnum):
    # No reminder between these local hours (candidate's time zone, else the opening's).
    QUIET_FROM_HOUR = 21
    QUIET_UNTIL_HOUR = 8
    TICK_SECONDS = 60
    # A stored file no answer refers to (a replaced take, a refused answer, a crash between
    # storing and committing) is deleted once it is this old.
    ORPHAN_MEDIA_MINUTES = 30


class CallReminderLimit(IntEnum):
    """When a booked live call is brought to mind (bot.flows.call_reminders)."""

    # The candidate hears the day before and shortly before; the interviewers shortly before.
    DAY_BEFORE_HOURS = 24
    SOON_MINUTES = 60
    # A candidate's reminder due in their quiet hours waits for the morning only when the
    # morning still comes this long before the call; otherwise it goes at its time (the
    # candidate will be up for the call anyway).
    MORNING_MARGIN_MINUTES = 15


class DeliveryLimit(IntEnum):
    # Outbox: first retry after 1 s, doubling up to 5 minutes, or exactly when the platform's
    # Retry-After says. A platform that refuses or is down delays posts, it loses none: the
    # recruiters are told once a row has been tried REPORT_AFTER_ATTEMPTS times. Only a row
    # that fails in ways hirebot does not understand (a bug) is given up, after MAX_ATTEMPTS.
    FIRST_BACKOFF_SECONDS = 1
    MAX_BACKOFF_SECONDS = 300
    REPORT_AFTER_ATTEMPTS = 10
    MAX_ATTEMPTS = 20
    # A row being sent is held this long, renewed every fifth of it while the send lasts
    # (a long upload): a process killed mid-send holds its rows, and the candidates waiting
    # behind them, this long at most. 60 s made a killed process's candidates wait a minute.
    LEASE_SECONDS = 15
    # Messages in flight at once: BATCH to Slack, mail, webhooks…, and CANDIDATE_BATCH to
    # candidates apart from those, so an ack ("got it") never waits for a slot behind
    # uploads that take seconds each (under load twenty of them filled every slot).
    BATCH = 20
    CANDIDATE_BATCH = 20


class MailLimit(IntEnum):
    # One SMTP conversation (connect, TLS, login, send) may take this long before it counts
    # as an outage and is retried like any other delivery.
    SMTP_TIMEOUT_SECONDS = 30


class TranscriptionLimit(IntEnum):
    # Counted when a worker claims the answer, so a file that kills the process (the OOM
    # killer, a segfault in a decoder) uses its attempts too; after the last one the answer
    # is posted as "transcript unavailable" and never tried again.
    MAX_ATTEMPTS = 3
    # Whisper's threads (and CTranslate2's, started from them) run at the lowest priority:
    # the CPU they leave is all they need, since an answer's transcript may take minutes,
    # while a candidate waits for "Got it" and Slack for an ack within milliseconds. On a
    # machine that does nothing else (a worker of its own) this changes nothing. Not
    # SCHED_IDLE: it measured no better under `hirebot bench load`, and on a machine kept
    # busy by other work it would never transcribe at all.
    NICENESS = 19
    # Short, and renewed every HEARTBEAT_SECONDS while the work runs: a live worker keeps its
    # job however long the answer, and after a crash another process takes it over within
    # a lease (reviewers wait seconds, not minutes).
    LEASE_SECONDS = 30
    HEARTBEAT_SECONDS = 10
    # A worker stuck this long on one answer stops renewing its lease (20 minutes of audio
    # take a few minutes on 2 cores); another worker then takes the answer over.
    MAX_WORK_SECONDS = 30 * 60
    # Retry after 5 s, then 10 s, 20 s… at most 5 minutes.
    FIRST_BACKOFF_SECONDS = 5
    MAX_BACKOFF_SECONDS = 300
    # An answer whose recording's store cannot be reached is tried again this much later,
    # its attempt uncounted, for as long as the store is down.
    MEDIA_WAIT_SECONDS = 15


class MediaLimit(IntEnum):
    """Bounds on the work one untrusted recording may cause (a file's size says nothing about
    its duration: 331 KB of FLAC can hold 30 minutes, 20 MB of MP3 six hours)."""

    # Measuring stops this far past what the question allows (its limit × the candidate's
    # time multiplier): enough to tell "a little over" from "far over" in soft mode.
    MEASURE_GRACE_SECONDS = 30
    # No recording is kept past this: soft limits keep an over-long answer, but only its
    # first 30 minutes (the longest limit an opening may set) are stored, transcribed and
    # converted for Slack; reviewers are told it was cut.
    MAX_KEPT_SECONDS = 30 * 60
    # Wall-clock budgets. A probe reads headers and decodes at most MAX_KEPT_SECONDS of
    # audio (a second or two for any real voice note); past its budget the file is refused
    # as unreadable. The Slack copy of a 20-minute video takes about a minute on 2 cores.
    PROBE_SECONDS = 30
    TRANSCODE_SECONDS = 300
    # Audio handed to Whisper at a time. A minute of 16 kHz float32 is 4 MB, and
    # faster-whisper's features for it (a complex128 STFT) about 50 MB more at their peak:
    # five minutes took a tiny.en process from 300 to 490 MB, two minutes to 460 MB.
    DECODE_CHUNK_SECONDS = 60
    # Each chunk ends in the quietest CHUNK_CUT_WINDOW_MS of its last CHUNK_CUT_SEARCH_MS,
    # so a word is not split between two chunks.
    CHUNK_CUT_SEARCH_MS = 5000
    CHUNK_CUT_WINDOW_MS = 100
    # The Slack copy's longest side, in pixels: a 4K video is scaled down, never up.
    PLAYABLE_LONG_SIDE = 640
    # Processes for probing, and processes for converting (bot.transcription.pool), each
    # kind this many: six large videos queue here instead of taking every core from the
    # event loop. Threads for writing to the store, as many.
    WORKERS = 2
    # The conversions' nice value (and x264's, started from them): the event loop (acks to
    # Slack within 3 s) wins every contest for a core against media work.
    NICENESS = 10
    # The intake's (measuring and storing a candidate's recording before they hear "Got
    # it"): below the event loop, above the conversions for Slack, which nobody waits for by
    # the second, and Whisper (TranscriptionLimit.NICENESS).
    INTAKE_NICENESS = 5
    # How often a media process checks that the bot that started it still runs.
    ORPHAN_CHECK_SECONDS = 1


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
    # How long a team member's name (for calendar invitations) is kept before Slack is asked
    # again: a renamed person shows their new name on the next invitation within the hour.
    NAMES_CACHE_SECONDS = 3600


class TelegramLimit(IntEnum):
    # Connections to the Bot API held open at once (PTB's default is 256; see the adapter).
    CONNECTIONS = 64
    # How long a request waits for one of them before it fails (PTB's default is 1 s).
    POOL_WAIT_SECONDS = 10
    # Webhook mode: pushes Telegram may make at once (its default; see the runtime).
    WEBHOOK_CONNECTIONS = 40


class InboundLimit(IntEnum):
    # Processed inbound keys (Telegram update ids, Slack event and action ids: no content) are
    # forgotten after this many days. Slack retries an event for about an hour and Telegram
    # keeps an unconfirmed update for 24 h, so a re-delivery never outlives its key.
    KEEP_DAYS = 7


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
    # A chat in hand is one task, mostly waiting (for the database, Telegram, the intake
    # threads): at 8, eight candidates' voice notes held every other chat's button press
    # and text for seconds under load. Recordings have a bound of their own (below).
    CONCURRENT_CHATS = 64
    # Recordings downloaded, measured and stored at once (each up to 20 MB in memory): a
    # burst of voice notes waits here, in its own chats, not in everyone's.
    RECORDINGS_AT_ONCE = 8
    # A handler still busy after this long is given up on (and retried), so a hung call
    # cannot hold a candidate's chat forever.
    HANDLE_SECONDS = 600
    # Settled updates (ids and outcomes, no content) are forgotten after this many days;
    # longer than Telegram keeps an unconfirmed update (24 h).
    KEEP_DAYS = 7
    # An update whose recording could not be stored because the media store (an S3 bucket)
    # did not answer waits longer: 2 s, 4 s… every 30 s, 15 tries over about 5.5 minutes,
    # so an outage of a few minutes costs the candidate a delay, not a resend. Later
    # updates of that chat wait behind it (order is kept); other chats go on.
    MEDIA_MAX_ATTEMPTS = 15
    MEDIA_FIRST_BACKOFF_SECONDS = 2
    MEDIA_MAX_BACKOFF_SECONDS = 30
    # Polling: a failed getUpdates is retried after 1 s, doubling up to 30 s.
    POLL_FIRST_BACKOFF_SECONDS = 1
    POLL_MAX_BACKOFF_SECONDS = 30


class ButtonLimit(IntEnum):
    # Telegram refuses an inline button whose callback_data is over 64 bytes.
    CALLBACK_DATA_BYTES = 64


class SchedulingLimit(IntEnum):
    """Bounds on an interviewer's weekly hours and on the slot search (issue 10)."""

    SLOT_MINUTES_MIN = 15
    SLOT_MINUTES_MAX = 240
    BUFFER_MINUTES_MAX = 120
    CALLS_PER_DAY_MAX = 12
    # Default notice: no slot offered that starts sooner than this after the offer.
    MIN_NOTICE_HOURS = 12
    # The longest window one search may cover: a candidate pages through weeks, not years.
    WINDOW_DAYS_MAX = 92
    # Slots shown in one message before "later dates": a handful of buttons fits a phone.
    SLOTS_PER_PAGE = 5
    # One-off days off an interviewer keeps: a year of holidays and conferences fits.
    DAYS_OFF_MAX = 60
    # How far ahead a candidate is offered slots: four weeks covers holidays and notice
    # periods; a later call is arranged by the team.
    OFFER_DAYS = 28
    # A page of slots is searched this many days at a time, until it is full.
    SEARCH_DAYS = 7
    # A candidate may reschedule or cancel in Telegram until this long before the start;
    # after it a change would reach the interviewers too late, so they reply to the team.
    CHANGE_CUTOFF_HOURS = 12


class BusyFeedLimit(IntEnum):
    """Bounds on the work one untrusted iCal feed may cause: a private calendar address is
    pasted by a person and served by anyone, so neither its size nor its recurrences are
    trusted."""

    # Real calendars with years of history stay well under a megabyte or two.
    FEED_BYTES = 5 * 1024 * 1024
    # Events (VEVENT, with their overrides) in one feed, and occurrences expanded in one
    # window: a weekly meeting over 92 days is 14, a busy person has a few hundred. Expanding
    # up to the bound took 0.3 s of CPU here (tests/flows/test_busy_feed.py's storm).
    EVENTS = 20_000
    OCCURRENCES = 2_000
    FETCH_SECONDS = 20
    ADDRESS_CHARS = 2000  # Google's secret addresses are about 150
    REDIRECTS = 5
    # How often each interviewer's feed is read again: a meeting they add shows up in the
    # candidate's offer within this long, and a calendar server sees us a few times an hour
    # (Google itself refreshes subscribed feeds every few hours).
    REFRESH_MINUTES = 15
    # Feeds read by one tick (every ReminderLimit.TICK_SECONDS), and at once: the rest wait
    # for the next tick, so a large team never holds the tick for minutes.
    REFRESH_PER_TICK = 20
    REFRESH_AT_ONCE = 4


class WebhookLimit(IntEnum):
    """Signed webhooks to recruiters' endpoints (Zapier, n8n, an in-house system)."""

    # One POST, connect to last byte; past it the attempt counts as a timeout.
    TIMEOUT_SECONDS = 10
    # Retries double from FIRST_BACKOFF_SECONDS up to MAX_BACKOFF_SECONDS (or exactly the
    # receiver's 429 Retry-After, capped at MAX_RETRY_AFTER_SECONDS): MAX_ATTEMPTS attempts
    # span about 5 hours, then the event is given up and the log says so.
    FIRST_BACKOFF_SECONDS = 30
    MAX_BACKOFF_SECONDS = 3600
    MAX_RETRY_AFTER_SECONDS = 3600
    MAX_ATTEMPTS = 12
    # A receiver's answer is read this far (for nothing but to finish the request), no more.
    RESPONSE_BYTES = 64 * 1024
    URL_CHARS = 2000
    ENDPOINTS = 20
    # `/hire webhooks` lists this many recent deliveries per endpoint.
    RECENT_DELIVERIES = 5
    # A delivery log row is kept this long after its event.
    KEEP_LOG_DAYS = 30


class PreviewLimit(IntEnum):
    # A recruiter's preview of an opening (/hire preview) is erased this long after it began.
    KEPT_HOURS = 24


class RelayLimit(IntEnum):
    """Messages between the hiring team and a candidate (issue 11)."""

    # Telegram's Bot API takes uploads of up to 50 MB (sendVoice, sendVideo, sendVideoNote).
    TELEGRAM_UPLOAD_BYTES = 50 * 1024 * 1024
    # What hirebot downloads from Slack to convert; a bigger file is refused before download.
    SLACK_DOWNLOAD_BYTES = 200 * 1024 * 1024
    # A recording longer than this is not a reply: record a shorter one.
    MAX_SECONDS = 10 * 60
    # Telegram's round video notes: "up to 1 minute long", square.
    VIDEO_NOTE_SECONDS = 60
    VIDEO_NOTE_SIDE = 384
    CAPTION_CHARS = 1024  # under a voice or video
    TEXT_CHARS = 4096  # one Telegram message
    CONVERT_SECONDS = 300  # the conversion's time budget
    # A form left open, or a typed question never confirmed, is forgotten after this long
    # (with its recording): nothing unsent is kept.
    DRAFT_HOURS = 24
    # Questions back: a candidate cannot flood the review thread.
    QUESTIONS_PER_DAY = 3
    QUESTION_CHARS = 1000


class ShareLimit(IntEnum):
    """Links to a candidate's answers for someone outside Slack (bot.flows.sharing)."""

    TOKEN_BYTES = 32  # 43 url-safe base64 characters: unguessable
    DEFAULT_DAYS = 7
    MAX_DAYS = 30
    HOLDER_CHARS = 80
    NOTE_CHARS = 2000
    # Votes through one link per window: a person changes their mind a few times; a leaked
    # link in a script does not get to fill the thread.
    VOTES_PER_WINDOW = 5
    VOTE_WINDOW_MINUTES = 60
    # The compact summary shared in Slack quotes this much of each transcript.
    SUMMARY_TRANSCRIPT_CHARS = 600
    # People and channels one Share form may send the summary to.
    RECIPIENTS_MAX = 10


class AtsLimit(IntEnum):
    # A sync the ATS keeps failing (5xx, timeouts) is retried with the outbox's backoff
    # (doubling from 1 s to 5 minutes: about 80 minutes in all), then given up and reported
    # in the candidate's thread. A 429 is the ATS pacing us: it does not count.
    MAX_FAILURES = 24
    # The completion note waits for every answer's transcript, at most this long after the
    # interview completed (a stuck transcription does not hold the ATS back for ever),
    # looking again every TRANSCRIPT_POLL_SECONDS.
    TRANSCRIPT_WAIT_SECONDS = 30 * 60
    TRANSCRIPT_POLL_SECONDS = 5
    # A 429 asking for at most this long is waited out inside the step, this many times, so a
    # step of several calls (move, note, tags) gets through a throttle instead of starting
    # over at every retry; a longer one goes back to the outbox, which waits as asked.
    INLINE_RATE_WAIT_SECONDS = 2
    INLINE_RATE_WAITS = 3
    # One HTTP call to the ATS: past this it counts as an outage and is retried.
    REQUEST_SECONDS = 30
    # Pages followed when searching a list (100 records a page on Lever).
    PAGES = 50
    # An inbound webhook triggered longer ago than this is refused as a replay. Lever retries
    # a failed delivery up to 5 times "with growing gaps" (not documented further): a day
    # covers them, and InboundLimit.KEEP_DAYS keeps each token's key far longer than that.
    WEBHOOK_MAX_AGE_SECONDS = 24 * 60 * 60
    # Clocks differ: a webhook stamped this far in our future is still accepted.
    WEBHOOK_CLOCK_SKEW_SECONDS = 5 * 60


class GreenhouseLimit(IntEnum):
    """How hirebot pages and paces Greenhouse Harvest v1 (the rest is AtsLimit)."""

    PAGE_SIZE = 100  # per_page; Harvest's default, it allows up to 500
    # A 429 without Retry-After: wait out the whole rate window (X-RateLimit-Limit is per 10 s).
    RETRY_AFTER_SECONDS = 10
