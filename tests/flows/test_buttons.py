"""Button data: each button packs to the string a platform carries and reads back the same.

Buttons already in candidates' chats and on Slack cards were packed by hand before this
codec existed; they are written here as the literal strings they carry and must keep working.
Anything else is refused the same way, whatever is wrong with it.
"""

from __future__ import annotations

import pytest

from bot.errors import HirebotError
from bot.flows import buttons
from bot.flows.buttons import (
    ButtonData,
    ButtonTooLong,
    Confirm,
    Consent,
    ConsentAnswer,
    EraseAnswer,
    ExtensionDecision,
    Language,
    MoreTime,
    OpenScore,
    Ready,
    Rerecord,
    Stale,
    StaleButton,
    Submit,
    Verdict,
    Vote,
)
from bot.flows.review import VoteChoice
from bot.limits import ButtonLimit

EVERY_KIND: list[ButtonData] = [
    Ready(0, 17),
    Ready(-1, 17),  # the practice question
    Ready(3),
    Submit(2, 1, 17),
    Rerecord(2, 1, 17),
    ConsentAnswer(Consent.AGREE, 17),
    ConsentAnswer(Consent.DECLINE),
    EraseAnswer(Confirm.YES, 17),
    EraseAnswer(Confirm.NO, 17),
    Language("de", 17),
    MoreTime(17),
    MoreTime(),
    Vote(VoteChoice.MAYBE, 17),
    OpenScore(17),
    ExtensionDecision(Verdict.DENY, 4),
]


@pytest.mark.parametrize("button", EVERY_KIND, ids=lambda b: type(b).__name__)
def test_every_button_reads_back_as_what_was_packed(button: ButtonData) -> None:
    data = button.pack()
    assert len(data.encode()) <= ButtonLimit.CALLBACK_DATA_BYTES
    assert type(button).unpack(data) == button
    if not isinstance(button, Vote | OpenScore | ExtensionDecision):
        assert buttons.candidate_press(data) == button


@pytest.mark.parametrize(
    ("data", "pressed"),
    [
        # As sent since buttons named their interview: ``<action>@<interview id>``.
        ("ready:0@17", Ready(0, 17)),
        ("ready:-1@17", Ready(-1, 17)),
        ("submit:2:1@17", Submit(2, 1, 17)),
        ("rerecord:1:2@5", Rerecord(1, 2, 5)),
        ("consent:agree@17", ConsentAnswer(Consent.AGREE, 17)),
        ("consent:decline@17", ConsentAnswer(Consent.DECLINE, 17)),
        ("erase:yes@9", EraseAnswer(Confirm.YES, 9)),
        ("erase:no@9", EraseAnswer(Confirm.NO, 9)),
        ("lang:de@3", Language("de", 3)),
        ("more_time@3", MoreTime(3)),
        # As sent before: the action alone.
        ("ready:0", Ready(0)),
        ("submit:0:3", Submit(0, 3)),
        ("consent:agree", ConsentAnswer(Consent.AGREE)),
        ("erase:yes", EraseAnswer(Confirm.YES)),
        ("lang:en", Language("en")),
        ("more_time", MoreTime()),
    ],
)
def test_buttons_already_in_candidates_chats_still_read_as_before(
    data: str, pressed: buttons.CandidateButton
) -> None:
    assert buttons.candidate_press(data) == pressed
    assert pressed.pack() == data  # and today's buttons are packed the same way


def test_slack_buttons_read_the_same_from_old_and_new_cards() -> None:
    # Cards posted before values were packed: the action id, and the interview id as value.
    assert Vote.from_slack("vote_yes", "17") == Vote(VoteChoice.YES, 17)
    assert OpenScore.from_slack("score_open", "17") == OpenScore(17)
    # Cards posted now: the value is the whole button.
    vote = Vote(VoteChoice.NO, 17)
    assert (vote.action, vote.pack()) == ("vote_no", "vote_no@17")
    assert Vote.from_slack(vote.action, vote.pack()) == vote
    # Extension requests always carried their data in both.
    data = "extension:approve:12"
    assert ExtensionDecision.from_slack(data, data) == ExtensionDecision(Verdict.APPROVE, 12)
    assert ExtensionDecision(Verdict.APPROVE, 12).pack() == data


def test_bolt_routes_each_kind_by_its_action_id() -> None:
    assert Vote.action_pattern().match("vote_maybe")
    assert not Vote.action_pattern().match("voted")
    assert OpenScore.action_pattern().match("score_open")
    assert not OpenScore.action_pattern().match("score_opener")
    assert ExtensionDecision.action_pattern().match("extension:deny:3")
    assert not ExtensionDecision.action_pattern().match("vote_yes")


def test_a_button_over_telegrams_64_bytes_is_refused_when_packed() -> None:
    fits = Language("x" * (64 - len("lang:@17")), 17)
    assert len(fits.pack().encode()) == 64
    with pytest.raises(ButtonTooLong, match="over 64 bytes"):
        Language("x" * (65 - len("lang:@17")), 17).pack()
    with pytest.raises(ButtonTooLong):
        Language("ü" * 30, 17).pack()  # bytes, not characters: 60 bytes of ü


def test_a_field_that_would_break_the_format_is_refused_when_packed() -> None:
    for bad in (Language("de:fr"), Language("de@1"), Ready(0, -5)):
        with pytest.raises(ValueError):
            bad.pack()


@pytest.mark.parametrize(
    "data",
    [
        "",
        "garbage",
        "ready",
        "ready:",
        "ready:x",
        "ready:+1",
        "ready:--1",
        "ready:1-",
        "ready:١",  # a digit, but not one we write
        "ready:0:1",
        "submit:2",
        "submit:2:1:0",
        "consent:maybe",
        "erase:please",
        "more_time:now",
        "readyy:0",
        "lang:de:fr",
    ],
)
def test_forged_or_malformed_candidate_data_is_a_stale_button(data: str) -> None:
    assert buttons.candidate_press(data) == Stale(None)


def test_a_stale_button_still_names_its_interview_so_a_foreign_one_is_refused_as_such() -> None:
    assert buttons.candidate_press("submit:x@17") == Stale(17)
    assert buttons.candidate_press("anything@17") == Stale(17)
    assert buttons.candidate_press("ready:0@abc") == Stale(None)
    assert buttons.candidate_press("ready:0@") == Stale(None)
    assert buttons.candidate_press("ready:0@-17") == Stale(None)


@pytest.mark.parametrize(
    ("kind", "action_id", "value"),
    [
        (Vote, "vote_yes", "vote_no@17"),  # the value of another button
        (Vote, "vote_yes", "vote_yes@abc"),
        (Vote, "vote_yes", ""),
        (Vote, "vote_never", "17"),
        (Vote, "vote_yes", "17@17"),
        (OpenScore, "score_open", "score_open"),  # names no interview
        (OpenScore, "score_open", "-3"),
        (ExtensionDecision, "extension:approve:1", "extension:approve:x"),
        (ExtensionDecision, "extension:approve:1@2", "extension:approve:1@2"),
    ],
)
def test_forged_or_malformed_slack_data_is_refused_with_one_sentence(
    kind: type[ButtonData], action_id: str, value: str
) -> None:
    with pytest.raises(StaleButton) as refused:
        kind.from_slack(action_id, value)
    assert isinstance(refused.value, HirebotError)  # shown to whoever pressed it
    assert str(refused.value) == "That button is out of date or not one of mine: nothing changed."
