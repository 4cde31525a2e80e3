"""Recruiters load openings from YAML: created or updated by slug; bad files name the line."""

from __future__ import annotations

import os
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import opened
from storage import migrate
from storage.models import Opening, Question


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "opening.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    monkeypatch.setenv("HIREBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HIREBOT_DATABASE_URL", database_url)
    return database_url


def _openings(url: str) -> list[tuple[Opening, list[Question]]]:
    migrate.upgrade(url)  # a refused import may not have created the schema
    with opened(url, Path(os.environ["HIREBOT_DATA_DIR"]) / "media") as uow:
        return uow.run_sync(
            lambda s, _now: [
                (o, list(s.exec(select(Question).where(Question.opening_id == o.id)).all()))
                for o in s.exec(select(Opening)).all()
            ]
        )


def test_import_creates_then_updates_by_slug(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["openings", "import", str(OPENING_FILE)]) == 0
    out = capsys.readouterr().out
    assert "created opening backend-engineer: Backend Engineer (2 questions)" in out
    # The sample names its interviewer, who has set no hours yet.
    assert (
        "  no interview hours yet for U0RECRUITER: each sets theirs with /hire availability "
        "in Slack before candidates can book them"
    ) in out
    changed = _write(
        tmp_path,
        """
        slug: backend-engineer
        title: Senior Backend Engineer
        review_channel: C0REVIEW02
        questions:
          - text: Why this role?
            answer_types: [voice, text]
          - text: What are you proud of?
        """,
    )
    assert main(["openings", "import", str(changed)]) == 0
    assert "updated opening backend-engineer" in capsys.readouterr().out
    [(opening, questions)] = _openings(cli_env)
    assert opening.title == "Senior Backend Engineer"
    assert opening.review_channel == "C0REVIEW02"
    assert opening.deadline_days == 7
    assert sorted((q.position, q.text, q.answer_types[0]) for q in questions) == [
        (0, "Why this role?", "voice"),
        (1, "What are you proud of?", "voice"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            """
            slug: backend-engineer
            title: Backend
            review_channel: C0REVIEW01
            questions:
              - text: Fine question
              - text: Too long
                answer_seconds: 99999
            """,
            "line 7: questions.1.answer_seconds: Input should be less than or equal to 1800",
        ),
        (
            """
            slug: Backend Engineer
            title: Backend
            review_channel: C0REVIEW01
            questions: [{text: Hi}]
            """,
            "line 1: slug: Value error, slug must be lowercase letters, digits and dashes",
        ),
        (
            """
            slug: backend
            title: Backend
            review_channel: C0REVIEW01
            questions:
              - text: Hi
                answer_types: [voice, telepathy]
            """,
            "line 6: questions.0.answer_types: Value error, answer_types must be some of",
        ),
        ("slug: [unclosed\n", "line 2: not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_nothing_is_saved(
    cli_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: str,
    expected: str,
) -> None:
    path = _write(tmp_path, body)
    assert main(["openings", "import", str(OPENING_FILE), str(path)]) == 2
    assert expected in capsys.readouterr().err
    assert _openings(cli_env) == []


def test_a_single_language_opening_pins_transcription_to_its_language(
    cli_env: str, tmp_path: Path
) -> None:
    from bot.flows import review
    from storage.models import Answer, Candidate, Interview

    path = _write(
        tmp_path,
        """
        slug: vertrieb
        title: Vertrieb
        review_channel: C0REVIEW01
        language: de
        questions: [{text: Warum gerade wir}]
        """,
    )
    assert main(["openings", "import", str(path)]) == 0
    [(opening, [question])] = _openings(cli_env)
    assert opening.language == "de"
    with opened(cli_env, Path(os.environ["HIREBOT_DATA_DIR"]) / "media") as uow:

        def answer_in_opening(session: Session, _now: datetime) -> int:
            now = opening.created_at
            candidate = Candidate(name="Hans", created_at=now)
            session.add(candidate)
            session.flush()
            assert candidate.id is not None and opening.id is not None
            interview = Interview(
                opening_id=opening.id,
                candidate_id=candidate.id,
                token_hash="x" * 64,
                status="answering",
                deadline_at=now,
                invited_by="U1",
                created_at=now,
            )
            session.add(interview)
            session.flush()
            assert interview.id is not None and question.id is not None
            answer = Answer(
                interview_id=interview.id,
                question_id=question.id,
                media_kind="voice",
                received_at=now,
                transcript_status="pending",
            )
            session.add(answer)
            session.flush()
            assert answer.id is not None
            return answer.id

        answer_id = uow.run_sync(answer_in_opening)
        assert uow.run_sync(lambda s, _now: review.transcript_language(s, answer_id)) == "de"


def test_intro_clips_are_converted_before_anything_is_saved(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.sandbox.world import SAMPLES

    for sample in ("answer1.ogg", "answer2.mp4"):
        (tmp_path / sample).write_bytes((SAMPLES / sample).read_bytes())
    (tmp_path / "cv.txt").write_text("not a recording")
    body = """
        slug: intro-opening
        title: With intros
        review_channel: C0REVIEW01
        intro: {opening}
        questions:
          - text: One
          - text: Two
            intro: answer2.mp4
        """
    bad = _write(tmp_path, body.format(opening="cv.txt"))
    assert main(["openings", "import", str(bad)]) == 2
    assert "cv.txt: this file is not a recording hirebot can use" in capsys.readouterr().err
    assert _openings(cli_env) == []
    good = _write(tmp_path, body.format(opening="answer1.ogg"))
    assert main(["openings", "import", str(good)]) == 0
    out = capsys.readouterr().out
    assert "  intro: voice clip of 7 s\n" in out
    assert "  question 2's intro: round video note of 6 s\n" in out
    assert main(["openings", "import", str(good)]) == 0  # the same files: nothing converted
    assert "intro" not in capsys.readouterr().out.split("\n", 1)[1]
