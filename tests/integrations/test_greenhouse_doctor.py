"""``hirebot doctor`` checks an opening's Greenhouse ids against Greenhouse itself."""

from __future__ import annotations

from pathlib import Path

from bot.doctor import diagnose, report
from bot.sandbox.greenhouse import GreenhouseSandbox
from tests.helpers.greenhouse import client_for, greenhouse_world


async def test_doctor_names_a_stage_or_reason_greenhouse_does_not_have(tmp_path: Path) -> None:
    async with greenhouse_world(tmp_path) as (w, gh):
        settings = w.settings()
        checks = await diagnose(settings)
        assert all(c.ok for c in checks), report(checks)
        assert "Opening backend-engineer: Greenhouse knows its job, stages" in report(checks)

        # Someone deletes the Offer stage and the rejection reason in Greenhouse.
        job = gh.jobs[gh.job_id]
        job.stages = [s for s in job.stages if s.name != "Offer"]
        del gh.rejection_reasons[5001]
        text = report(await diagnose(settings))
        assert (
            "Opening backend-engineer: Greenhouse does not know stage 30014, rejection reason "
            "5001: fix the opening's ats: block"
        ) in text

        unset = await diagnose(settings.model_copy(update={"greenhouse_api_key": None}))
        assert "HIREBOT_GREENHOUSE_API_KEY is not set" in report(unset)


async def test_an_unknown_job_is_named() -> None:
    async with GreenhouseSandbox() as gh:
        client = client_for(gh)
        client.job_id = 9999
        try:
            assert await client.unknown_ids(["30011"], None) == ["job 9999"]
        finally:
            await client.close()
