"""Sharing a candidate from the card, end to end: the real Share form in the Slack emulator,
the summary in DMs and a channel, and the share page over HTTP from the bot's own server
(headers, escaping, Range requests, a vote that lands in the thread, revoking, erasure)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, SAMPLES, TEAMMATE, World, eventually
from tests.helpers.s3 import new_bucket, settings_of
from tests.helpers.sharing import answered, make_link, share_form, thread_text
from tests.helpers.slack import card, hire, users_value

HOSTILE = 'Jane <img src=x onerror="alert(1)"> Doe'
OUTSIDER = "U0OUTSIDER"
HIRING = "C0HIRING01"


async def test_a_link_made_in_the_share_form_shows_the_answers_and_takes_a_vote(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await answered(w, HOSTILE)
        address = await make_link(w, holder="Dana <b>Lee</b>")
        parent = await card(w)
        made = await thread_text(w, parent.ts, REVIEW_CHANNEL, "made a share link")
        assert "*Dana &lt;b&gt;Lee&lt;/b&gt;*" in made

        async with aiohttp.ClientSession() as http:
            async with http.get(address) as page:
                assert page.status == 200
                body = await page.text()
                assert page.headers["Referrer-Policy"] == "no-referrer"
                assert "noindex" in page.headers["X-Robots-Tag"]
                assert "script-src" not in page.headers["Content-Security-Policy"]
                assert "default-src 'none'" in page.headers["Content-Security-Policy"]
            # Names full of markup are text, never markup.
            assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
            assert "<img" not in body and "<script" not in body
            assert "Dana &lt;b&gt;Lee&lt;/b&gt;" in body
            assert "Why do you want this role?" in body or "Q1" in body
            source = body.split('<audio controls preload="metadata" src="', 1)[1].split('"')[0]

            # The recording, whole and by range (players seek with ranges).
            media = address.rsplit("/", 1)[0] + "/" + source
            async with http.get(media) as whole:
                assert whole.status == 200 and whole.headers["Content-Type"] == "audio/ogg"
                assert whole.headers["Accept-Ranges"] == "bytes"
                everything = await whole.read()
            async with http.get(media, headers={"Range": "bytes=10-19"}) as part:
                assert part.status == 206
                assert part.headers["Content-Range"] == f"bytes 10-19/{len(everything)}"
                assert await part.read() == everything[10:20]
            async with http.get(media, headers={"Range": "bytes=-5"}) as tail:
                assert tail.status == 206 and await tail.read() == everything[-5:]
            async with http.get(media, headers={"Range": f"bytes={len(everything)}-"}) as past:
                assert past.status == 416

            vote = {"choice": "no", "note": "Great <b>depth</b>; *not* senior enough."}
            async with http.post(address + "/vote", data=vote) as voted:
                assert voted.status == 200 and str(voted.url).endswith("?voted=no")
                assert "your vote (No) is in the hiring team" in await voted.text()

        note = await thread_text(w, parent.ts, REVIEW_CHANNEL, "voted *No*")
        assert note == (
            f"🔗 *Dana &lt;b&gt;Lee&lt;/b&gt;* (share link from <@{RECRUITER}>) voted *No*.\n"
            "> Great &lt;b&gt;depth&lt;/b&gt;; *not* senior enough."
        )


async def test_a_link_serves_recordings_kept_in_a_bucket_by_range(
    tmp_path: Path, s3_endpoint: str
) -> None:
    bucket = new_bucket(s3_endpoint)
    async with World(data_dir=tmp_path, extra_settings=settings_of(bucket)) as w:
        await answered(w)
        address = await make_link(w, "Dana Lee")
        kept = (SAMPLES / "answer1.ogg").read_bytes()
        async with aiohttp.ClientSession() as http:
            async with http.get(address) as page:
                source = (await page.text()).split('<audio controls preload="metadata" src="')[1]
            media = address.rsplit("/", 1)[0] + "/" + source.split('"')[0]
            async with http.get(media, headers={"Range": "bytes=100-"}) as part:
                assert part.status == 206
                assert part.headers["Content-Range"] == f"bytes 100-{len(kept) - 1}/{len(kept)}"
                assert await part.read() == kept[100:]


async def test_a_revoked_link_shows_nothing_and_only_recruiters_revoke(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await answered(w)
        address = await make_link(w, "Dana Lee")
        parent = await card(w)
        made = await eventually(
            lambda: next(
                (
                    m
                    for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)
                    if "made a share link" in m.text
                ),
                None,
            )
        )
        tom, rita = w.slack.teammate(TEAMMATE), w.slack.teammate(RECRUITER)
        revoke = next(
            b["action_id"]
            for block in made.blocks
            for b in block.get("elements", [])
            if b.get("type") == "button"
        )

        await tom.click(revoke, message=made)
        refused = await eventually(lambda: w.slack.ephemerals(TEAMMATE))
        assert refused[-1]["text"] == "Only recruiters can revoke a share link."
        async with aiohttp.ClientSession() as http, http.get(address) as still:
            assert still.status == 200

        await rita.click(revoke, message=made)
        await thread_text(w, parent.ts, REVIEW_CHANNEL, "revoked the share link")
        async with aiohttp.ClientSession() as http:
            async with http.get(address) as gone:
                assert gone.status == 404
                body = await gone.text()
            async with http.get(address[:-4] + "AAAA") as unknown:
                assert unknown.status == 404 and await unknown.text() == body
            async with http.post(address + "/vote", data={"choice": "yes"}) as vote:
                assert vote.status == 404
        assert "This link is not available" in body and "Jane" not in body


async def test_the_share_form_sends_the_summary_in_slack_and_erasure_deletes_it(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        w.slack.add_user(OUTSIDER, "olga", "Olga Outsider")
        w.slack.add_channel(HIRING, "hiring-managers", [w.slack.bot_user_id, OUTSIDER])
        await answered(w)
        form = await share_form(w)
        values = {
            "people": users_value(TEAMMATE, OUTSIDER),
            "channels": {
                "value": {"type": "multi_conversations_select", "selected_conversations": [HIRING]}
            },
        }
        assert await w.slack.teammate(RECRUITER).submit_view(form, values) == 200
        assert w.slack.view_acks[-1] == {}

        outsider = await eventually(lambda: w.slack.direct_messages(OUTSIDER))
        teammate = await eventually(lambda: w.slack.direct_messages(TEAMMATE))
        posted = await eventually(lambda: w.slack.messages(HIRING))
        assert outsider[-1].text.startswith(f"📤 <@{RECRUITER}> shared *Jane Doe*")
        assert "*Q1." in outsider[-1].text and "*Q2." in outsider[-1].text
        # Only who can open the thread gets its link.
        assert "Open the review thread" in teammate[-1].text
        assert "Open the review thread" not in outsider[-1].text
        assert posted[-1].text == outsider[-1].text
        parent = await card(w)
        await thread_text(w, parent.ts, REVIEW_CHANNEL, "shared this candidate with")

        await hire(w, RECRUITER, "erase Jane Doe confirm")
        await eventually(lambda: not w.slack.direct_messages(OUTSIDER), what="the DM deleted")
        await eventually(lambda: not w.slack.messages(HIRING), what="the post deleted")


async def test_a_channel_hirebot_is_not_in_is_refused_in_the_form(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        w.slack.add_channel(HIRING, "hiring-managers", [RECRUITER])
        await answered(w)
        form = await share_form(w)
        picked = {
            "value": {"type": "multi_conversations_select", "selected_conversations": [HIRING]}
        }
        await w.slack.teammate(RECRUITER).submit_view(form, {"channels": picked})
        assert w.slack.view_acks[-1] == {
            "response_action": "errors",
            "errors": {
                "channels": (
                    f"hirebot is not in <#{HIRING}>: /invite @hirebot there first, or pick people."
                )
            },
        }
        await w.wait_idle()
        assert not w.slack.messages(HIRING)


async def test_only_recruiters_may_share(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await answered(w)
        parent = await card(w)
        await w.slack.teammate(TEAMMATE).click("share_open", message=parent)
        refused = await eventually(lambda: w.slack.ephemerals(TEAMMATE))
        assert (
            refused[-1]["text"]
            == "Only recruiters can share a candidate beyond the review channel."
        )
        assert not [v for v in w.slack.views if v.get("callback_id") == "share_candidate"]


async def test_an_empty_share_form_is_refused_next_to_its_field(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await answered(w)
        form = await share_form(w)
        await w.slack.teammate(RECRUITER).submit_view(form, {})
        assert w.slack.view_acks[-1]["response_action"] == "errors"
        assert "people" in w.slack.view_acks[-1]["errors"]
