"""Whatever a person typed reaches Slack as text, never as markup: no ``<!channel>`` ping,
no mention, no disguised link; and no export cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.flows.escaping import csv_cell
from bot.sandbox.world import (
    OPENING_FILE,
    RECRUITER,
    REVIEW_CHANNEL,
    TEAMMATE,
    World,
    answer_question,
    eventually,
    visible_text,
)
from tests.helpers.slack import card, hire, opened_view, replies, text_value
from tests.helpers.stories import invite, start_answering

# What Slack sends when a recruiter types "@channel &Bob @U123" as a candidate's name: real
# mention entities, and the ampersand escaped.
HOSTILE_NAME_WIRE = "<!channel> &amp;Bob <@U123>"
HOSTILE_NAME = "<!channel> &Bob <@U123>"
SHOWN_NAME = "&lt;!channel&gt; &amp;Bob &lt;@U123&gt;"
DISGUISED = "See <http://evil.example|my portfolio> & <!here>"
MARKUP = ("<!channel>", "<!here>", "<@U123>", "<@U0BOSS>", "<http://evil", "<b>")


def _mrkdwn_texts(value: Any, *, top: bool = False) -> Iterator[str]:
    """Every string Slack would render as mrkdwn in a Web API call's parameters."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            yield str(value.get("text", ""))
        if top and isinstance(value.get("text"), str):
            yield value["text"]  # chat.* fallback text is mrkdwn too
        for inner in value.values():
            if isinstance(inner, dict | list):
                yield from _mrkdwn_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _mrkdwn_texts(inner)


def _every_mrkdwn_text(w: World) -> list[str]:
    texts = [t for call in w.slack.calls for t in _mrkdwn_texts(call.params, top=True)]
    texts += [str(e.get("text") or "") for e in w.slack.ephemerals()]  # acks, response_url
    return texts


async def test_names_answers_notes_and_reasons_reach_slack_as_text(tmp_path: Path) -> None:
    hostile_opening = tmp_path / "hostile.yaml"
    hostile_opening.write_text(
        OPENING_FILE.read_text()
        .replace("title: Backend Engineer", 'title: "Backend <!here> & Co"')
        .replace("Tell us about a system", "<@U0BOSS> wants to hear about a system")
        .replace("answer_types: [voice, video_note, video]", "answer_types: [voice, text]")
    )
    async with World(data_dir=tmp_path, opening_file=hostile_opening) as w:
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        candidate = w.telegram.candidate(700_901, "Bob", "Evil")
        await start_answering(w, candidate, await invite(w, HOSTILE_NAME_WIRE))
        for number, said in ((1, DISGUISED), (2, "<b>bold</b> & done")):

            async def type_it(said: str = said) -> int:
                return await candidate.send_text(said)

            await answer_question(candidate, number, 2, type_it)
        parent = await card(w)
        assert (
            parent.blocks[0]["text"]["text"] == f"*{SHOWN_NAME}* · Backend &lt;!here&gt; &amp; Co"
        )
        assert parent.text.startswith(f"{SHOWN_NAME} · Backend &lt;!here&gt; &amp; Co")
        thread = await replies(w, parent, 3)
        assert thread[0].text.startswith("*Q1. &lt;@U0BOSS&gt; wants to hear about a system")
        assert "> See &lt;http://evil.example|my portfolio&gt; &amp; &lt;!here&gt;" in (
            thread[0].text
        )
        assert "> &lt;b&gt;bold&lt;/b&gt; &amp; done" in thread[1].text

        # Tom typed "@channel" in a note: Slack sent the entity; hirebot shows it as text.
        await tom.reply_in_thread(REVIEW_CHANNEL, parent.ts, "<!channel> look &lt;b&gt;")
        detail = await hire(w, TEAMMATE, f"status {HOSTILE_NAME_WIRE}")
        assert f"*{SHOWN_NAME}* (#1)" in detail
        assert f"<@{TEAMMATE}>: &lt;!channel&gt; look &lt;b&gt;" in detail

        await rita.slash("/hire", "reject #1", REVIEW_CHANNEL)
        form = await opened_view(w, "reject")
        assert form["blocks"][0]["text"]["text"] == (
            f"Reject *{SHOWN_NAME}* for *Backend &lt;!here&gt; &amp; Co*."
        )
        values = {"reason": text_value("<!channel> <@U0BOSS>'s pick"), "message": text_value("Bye")}
        assert await rita.submit_view(form, values) == 200
        note = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "rejected" in m.text]
        )
        assert note[0].text.endswith("Reason: &lt;!channel&gt; &lt;@U0BOSS&gt;'s pick")
        dm = await eventually(lambda: w.slack.direct_messages(RECRUITER))
        assert dm[-1].text.startswith(f"{SHOWN_NAME} rejected.")
        await tom.open_home()
        await eventually(lambda: w.slack.home_views.get(TEAMMATE), what="Tom's home")
        home = str(w.slack.home_views[TEAMMATE])
        assert "rejected (&lt;!channel&gt; &lt;@U0BOSS&gt;'s pick)" in home

        await eventually(lambda: "Rejected" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        leaks = [t for t in _every_mrkdwn_text(w) for m in MARKUP if m in t]
        assert leaks == []


async def test_export_cells_that_start_like_a_formula_are_defused(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w, '=HYPERLINK("//evil.example","Open")')
        await invite(w, "@SUM(A1)")
        await invite(w, "Jane Doe")
        await hire(w, RECRUITER, "export backend-engineer")
        dm = await eventually(lambda: [m for m in w.slack.direct_messages(RECRUITER) if m.files])
        rows = list(csv.DictReader(io.StringIO(dm[0].files[0].data.decode())))
        assert [r["candidate"] for r in rows] == [
            '\'=HYPERLINK("//evil.example","Open")',
            "'@SUM(A1)",
            "Jane Doe",
        ]


def test_every_formula_start_is_defused_and_other_cells_are_kept() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell("Jane Doe") == "Jane Doe"
    assert csv_cell(-3) == -3  # numbers hirebot wrote stay numbers
