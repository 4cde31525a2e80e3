"""``hirebot bench load`` in small: a handful of candidates through the whole harness, so that
it cannot rot between the real runs (200 candidates, minutes, see the README)."""

from __future__ import annotations

import pytest

from bot.bench.load import Options, lines, run
from bot.bench.load_people import Behaviour


@pytest.mark.slow  # a bot process, real Whisper, every candidate's whole interview
@pytest.mark.timeout(900)  # a minute on a quiet machine; five under load average 20
async def test_a_few_candidates_interview_at_once_and_every_answer_reaches_slack_once() -> None:
    options = Options(
        candidates=4,
        reviewers=2,
        # Every candidate records one answer again and Telegram delivers every update twice.
        behaviour=Behaviour(
            think_scale=0.05, ramp_seconds=1.0, rerecord_rate=1.0, duplicate_rate=1.0
        ),
        raw_baseline=False,
    )
    result = await run(options)
    found = result.summary()
    report = "\n".join(lines(result))
    assert found["passed"], report
    assert (found["lost"], found["duplicated"], found["stuck"]) == (0, 0, 0), report
    runs = result.runs
    assert all(len(run.submits) == 2 for run in runs)
    assert all(run.duplicated == run.sent for run in runs)  # each update came twice
    assert len(result.figures.post_seconds) == 8 == len(result.figures.transcript_seconds)
    # One ack per first delivery: the duplicates were answered by nothing.
    assert found["acks"] == sum(len(run.sent) for run in runs)
    # Every press was followed by a message, and the spinner never stopped after it.
    presses = sorted(result.figures.ack_by_kind["button"])
    followed = sorted(result.figures.button_message_seconds)
    assert len(followed) == len(presses)
    assert all(spinner <= message for spinner, message in zip(presses, followed, strict=True))
    assert found["votes"] > 0 and result.peaks["bot-1"] > 0
    assert "8 answers: lost 0, duplicated 0" in report
