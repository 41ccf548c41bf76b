"""Recruit links through Telegram: ``/start REF_CODE`` carries the recruiter into the
pledge link; A brings B, B brings C, and the figures say so, each person counted once."""

from __future__ import annotations

from bot.app import Chorus
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram import conftest as tg_kit
from tests.integration.telegram.conftest import JSON, Driver


async def test_a_recruit_chain_through_start_payloads(
    tg: Driver, core: Chorus, clock: FakeClock, api: FakeTelegramApi
) -> None:
    campaign = await tg_kit.live_campaign(core, clock)
    a, b, c = tg_kit.STRANGER, tg_kit.SUPPORTER, tg_kit.FRENCH

    async def joins(person: JSON, payload: str, remote_id: str) -> None:
        intro = await tg.say(person, tg_kit.private(person), f"/start {payload}")
        ticket = core.links.read(tg_kit.pledge_token(intro))
        await core.pledges.record(ticket, tg_kit.sandbox_profile(remote_id, f"h{remote_id}"))

    def code(person: JSON) -> str:
        return core.pledges.recruits.code(campaign.ref, tg_kit.ref_of(person))

    await joins(a, campaign.ref, "a1")
    await joins(b, f"{campaign.ref}_{code(a)}", "b1")
    await joins(b, f"{campaign.ref}_{code(b)}", "b2")  # a second account, self-recruit
    await joins(c, f"{campaign.ref}_{code(b)}", "c1")

    figures = await core.repo.recruiters(campaign.id or 0)
    assert [(r.key, r.recruited) for r in figures] == [
        (tg_kit.ref_of(a).key, 1),
        (tg_kit.ref_of(b).key, 1),
    ]
    own = f"/c/{campaign.ref}?via={code(c)}"
    assert any(own in (call.text or "") for call in api.calls if call.chat_id == c["id"])
