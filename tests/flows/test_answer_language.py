"""The answer post tells reviewers about the transcript's language only when it matters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.flows.review import language_note
from storage.models import Answer, TranscriptStatus


def _transcribed(language: str, probability: float | None, text: str = "Hola.") -> Answer:
    return Answer(
        interview_id=1,
        question_id=1,
        media_kind="voice",
        received_at=datetime(2026, 11, 27, tzinfo=UTC),
        transcript_status=TranscriptStatus.DONE,
        transcript_text=text,
        transcript_language=language,
        transcript_language_probability=probability,
    )


@pytest.mark.parametrize(
    ("language", "probability", "expected", "note"),
    [
        # The expected language, and Whisper sure of it (or told it): nothing to say.
        ("en", 0.98, "en", None),
        ("de", None, "de", None),
        # Another language than the opening's (or the candidate's).
        ("es", 0.97, "en", "_🌐 Transcribed as Spanish._"),
        ("pt", 0.91, "de", "_🌐 Transcribed as Portuguese._"),
        # The expected one, but a guess: the text may be in the wrong language.
        (
            "en",
            0.31,
            "en",
            "_🌐 Transcribed as English, but Whisper was only 31% sure of the language._",
        ),
        # A code Babel has no name for is still shown.
        ("zz", 0.9, "en", "_🌐 Transcribed as zz._"),
    ],
)
def test_language_is_noted_when_unexpected_or_unsure(
    language: str, probability: float | None, expected: str, note: str | None
) -> None:
    assert language_note(_transcribed(language, probability), expected) == note


def test_no_language_note_when_nothing_was_heard() -> None:
    assert language_note(_transcribed("es", 0.2, text=""), "en") is None
