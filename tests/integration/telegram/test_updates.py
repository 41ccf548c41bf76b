"""Organiser updates on Telegram through the Bot API fake: ``/update REF text`` reaches each
supporter privately (plain text, as typed) with a Mute button; a muted supporter gets
nothing more; a supporter who blocked the bot counts as unreachable; the organiser gets
the count; strangers and bad input are refused."""

from __future__ import annotations

from bot.app import Chorus
from bot.domain.campaign import Campaign
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP_ADMIN,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    callbacks,
    live_campaign,
    private,
    ref_of,
    sandbox_profile,
)

NEWS = "We passed 50!\nKeep *sharing* <b>now</b> & {title}"


async def pledged(core: Chorus, campaign: Campaign, person: dict, remote: str) -> None:
    ticket = core.links.read(core.links.issue(campaign.ref, ref_of(person)))
    await core.pledges.record(ticket, sandbox_profile(remote, f"h{remote}"))


def updates_to(api: FakeTelegramApi, person: dict, since: int = 0) -> list[str]:
    return [
        c.text
        for c in api.find("sendMessage", lambda c: c.chat_id == person["id"], since)
        if "mute:" in " ".join(callbacks(c))
    ]


async def test_update_reaches_supporters_muted_ones_get_nothing(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    for number, person in enumerate((SUPPORTER, FRENCH, GROUP_ADMIN)):
        await pledged(core, campaign, person, f"r{number}")
    api.block(GROUP_ADMIN["id"])

    refused = await tg.say(STRANGER, private(STRANGER), f"/update {campaign.ref} hello")
    assert refused.text == render(t("campaign.not_yours", ref=campaign.ref), "en")

    since = api.mark()
    sent = await tg.say(ORGANISER, private(ORGANISER), f"/update {campaign.ref} {NEWS}")
    assert "reached 2 of 3 supporters (0 muted, 1 unreachable)" in sent.text
    (to_supporter,) = updates_to(api, SUPPORTER, since)
    assert to_supporter.endswith(NEWS)  # as typed: plain text, line break kept
    assert to_supporter.startswith("📣 Update from the organiser of “Clean rivers now”")
    update_call = api.find("sendMessage", lambda c: c.chat_id == FRENCH["id"], since)[-1]
    assert update_call.text.startswith("📣 Nouvelle de l'organisateur")
    assert callbacks(update_call) == [f"mute:{campaign.ref}"]

    since = api.mark()
    await tg.press(FRENCH, api.message(update_call), f"mute:{campaign.ref}")
    muted = await api.wait_for("sendMessage", lambda c: c.chat_id == FRENCH["id"], since=since)
    assert "Vous ne recevrez plus de nouvelles" in muted.text
    assert callbacks(muted) == [f"unmute:{campaign.ref}"]

    since = api.mark()
    again = await tg.say(ORGANISER, private(ORGANISER), f"/update {campaign.ref} Second news")
    assert "reached 1 of 3 supporters (1 muted, 1 unreachable)" in again.text
    assert updates_to(api, SUPPORTER, since) != []
    assert updates_to(api, FRENCH, since) == []  # muted: nothing at all

    since = api.mark()
    await tg.press(FRENCH, api.message(muted), f"unmute:{campaign.ref}")
    unmuted = await api.wait_for("sendMessage", lambda c: c.chat_id == FRENCH["id"], since=since)
    assert callbacks(unmuted) == [f"mute:{campaign.ref}"]
    since = api.mark()
    third = await tg.say(ORGANISER, private(ORGANISER), f"/update {campaign.ref} Third")
    assert "reached 2 of 3" in third.text
    assert len(updates_to(api, FRENCH, since)) == 1

    limited = await tg.say(ORGANISER, private(ORGANISER), f"/update {campaign.ref} Fourth")
    assert limited.text.startswith("A campaign can send 3 updates in 24 hours.")
    assert "The next one is allowed from 2030-01-16 12:00 UTC." in limited.text


async def test_update_usage_and_refusals(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    chat = private(ORGANISER)
    usage = await tg.say(ORGANISER, chat, "/update")
    assert usage.text == render(t("telegram.usage_update"), "en")
    empty = await tg.say(ORGANISER, chat, f"/update {campaign.ref}")
    assert empty.text == render(t("update.empty"), "en")
    long = await tg.say(ORGANISER, chat, f"/update {campaign.ref} {'x' * 1001}")
    assert "1,001 characters long; the limit is 1,000" in long.text
    unknown = await tg.say(ORGANISER, chat, "/update ZZZZZZ hello")
    assert unknown.text == render(t("campaign.not_found", ref="ZZZZZZ"), "en")
    await core.campaigns.cancel(campaign.ref, ref_of(ORGANISER))
    cancelled = await tg.say(ORGANISER, chat, f"/update {campaign.ref} hello")
    assert "Updates can only go to the supporters of a live or launched campaign" in (
        cancelled.text
    )
