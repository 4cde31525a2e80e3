"""`hirebot transcribe` and the bench's scoring, as an operator uses them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.bench.transcription import normalise, spell_number
from bot.cli import main
from bot.flows.ports import Transcriber
from tests.helpers.media import ANSWER1_OGG


def test_operator_transcribes_a_voice_note_from_the_command_line(
    transcriber: Transcriber,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HIREBOT_DATA_DIR", str(tmp_path))
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"\x00" * 400)
    code = main(["transcribe", "--model", "tiny.en", str(ANSWER1_OGG), str(junk)])
    out, err = capsys.readouterr()
    assert code == 1  # one file could not be read
    assert "7.1 s of audio, language en (1.00)" in out
    assert "payment service in Python" in out
    assert "× real time" in out
    assert "junk.ogg: We couldn't open this file" in out
    assert "✓ loading tiny.en (faster-whisper)" in err
    assert "✗ [2/2] junk.ogg" in err


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (2, "two"),
        (15, "fifteen"),
        (40, "forty"),
        (300, "three hundred"),
        (1999, "one thousand nine hundred ninety nine"),
        (2_000_000, "two million"),
    ],
)
def test_numbers_are_spelled_like_the_references(number: int, words: str) -> None:
    assert spell_number(number) == words


def test_wer_ignores_case_punctuation_and_digits() -> None:
    reference = (
        "The average response time dropped from about two seconds "
        "to under three hundred milliseconds."
    )
    whisper = "the average response-time dropped from about 2 seconds, to under 300 milliseconds"
    assert normalise(reference) == normalise(whisper)
    assert normalise("It's 1,500 users.") == "its one thousand five hundred users"


@pytest.mark.parametrize("bench", ["transcription", "decoding"])
def test_bench_without_jiwer_says_what_to_install_before_any_work(
    bench: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # None in sys.modules makes "import jiwer" raise ImportError; the folder does not exist,
    # so the refusal must come before anything is read or transcribed.
    monkeypatch.setitem(sys.modules, "jiwer", None)
    assert main(["bench", bench, str(tmp_path / "not-read")]) == 2
    err = capsys.readouterr().err
    assert f"hirebot bench {bench} scores word error rates with jiwer" in err
    assert "pip install 'hirebot[bench]'" in err
