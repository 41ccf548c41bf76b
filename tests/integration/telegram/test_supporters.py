"""Supporters: the Support deep link, pledge links that expire or were used, /mypledges,
/unpledge and /forget with its confirmation; and the bot keeps going when a supporter
has blocked it or Telegram asks it to slow down."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.networks.sandbox import SANDBOX
from bot.app import Chorus
from bot.domain.errors import DomainError
from bot.domain.networks import Network
from bot.domain.pledge import PledgeStatus
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP,
    ORGANISER,
    SUPPORTER,
    Driver,
    StubNetwork,
    callbacks,
    live_campaign,
    pledge_token,
    private,
    ref_of,
    sandbox_profile,
    urls,
)


async def test_support_link_gives_a_personal_pledge_button(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    intro = await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}")
    assert intro.text.startswith(f"📣 {campaign.title}")
    assert render(t("supporter.link_note"), "en") in intro.text
    (button,) = intro.buttons
    assert button["text"] == render(t("button.pledge"), "en")
    ticket = core.links.read(pledge_token(intro))
    assert ticket.campaign_ref == campaign.ref
    assert ticket.supporter == ref_of(SUPPORTER)


async def test_support_of_a_campaign_not_open_is_explained(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    await core.campaigns.cancel(campaign.ref, ref_of(ORGANISER))
    answer = await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}")
    assert answer.text == render(
        t("pledge.not_open", title=campaign.title, status=t("status.cancelled")), "en"
    )
    assert answer.buttons == []


async def test_expired_and_reused_pledge_links_are_refused_in_the_users_language(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    stale = pledge_token(await tg.say(FRENCH, private(FRENCH), f"/start {campaign.ref}"))
    clock.advance(timedelta(minutes=core.settings.pledge_link_ttl_minutes + 1))
    with pytest.raises(DomainError) as expired:
        core.links.read(stale)
    assert render(expired.value.text, "fr") == render(t("link.expired"), "fr")
    assert "expiré" in render(expired.value.text, "fr")

    fresh = pledge_token(await tg.say(FRENCH, private(FRENCH), f"/start {campaign.ref}"))
    ticket = core.links.read(fresh)
    assert ticket.supporter.language == "fr"
    await core.pledges.record(ticket, sandbox_profile("r1", "francoise"))
    with pytest.raises(DomainError) as used:
        await core.pledges.record(core.links.read(fresh), sandbox_profile("r2", "other"))
    assert used.value.key == "link.used"
    assert render(used.value.text, "fr") == render(t("link.used"), "fr")
    assert len(await core.repo.pledges_of_supporter(ref_of(FRENCH))) == 1


async def test_mypledges_unpledge_and_forget_with_confirmation(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    networks: dict[Network, StubNetwork],
) -> None:
    chat = private(SUPPORTER)
    campaign = await live_campaign(core, clock)
    empty = await tg.say(SUPPORTER, chat, "/mypledges")
    assert empty.text == render(t("mypledges.none"), "en")

    token = pledge_token(await tg.say(SUPPORTER, chat, f"/start {campaign.ref}"))
    await core.pledges.record(core.links.read(token), sandbox_profile())
    listed = await tg.say(SUPPORTER, chat, "/mypledges")
    assert f"{campaign.ref} · {campaign.title} · @sacha · pledged" in listed.text

    withdrawn = await tg.say(SUPPORTER, chat, f"/unpledge {campaign.ref.lower()}")
    assert withdrawn.text == render(t("unpledge.done", count=1, ref=campaign.ref), "en")
    assert "@sacha · withdrawn" in (await tg.say(SUPPORTER, chat, "/mypledges")).text
    again = await tg.say(SUPPORTER, chat, f"/unpledge {campaign.ref}")
    assert again.text == render(t("unpledge.none", ref=campaign.ref), "en")

    # /forget asks first; "no" keeps everything
    confirm = await tg.say(SUPPORTER, chat, "/forget")
    assert confirm.text == render(t("forget.confirm"), "en")
    assert callbacks(confirm) == ["forget:yes", "forget:no"]
    kept = await tg.press_and_see_edit(SUPPORTER, api.message(confirm), "forget:no")
    assert kept.text == render(t("forget.kept"), "en")
    assert len(await core.repo.accounts_of(ref_of(SUPPORTER))) == 1

    confirm = await tg.say(SUPPORTER, chat, "/forget")
    forgotten = await tg.press_and_see_edit(SUPPORTER, api.message(confirm), "forget:yes")
    assert forgotten.text == "Erased: 1 linked account and 1 pledge."
    assert await core.repo.accounts_of(ref_of(SUPPORTER)) == []
    assert await core.repo.pledges_of_supporter(ref_of(SUPPORTER)) == []
    assert len(networks[SANDBOX].revoked) == 1


async def test_a_supporter_who_blocked_the_bot_breaks_nothing(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    card = api.message(await tg.promote(ORGANISER, GROUP, campaign.ref))
    token = pledge_token(await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}"))
    api.block(SUPPORTER["id"])

    since = api.mark()
    pledge = await core.pledges.record(core.links.read(token), sandbox_profile())
    assert pledge.status is PledgeStatus.PLEDGED
    refused = [c for c in api.calls[since:] if c.chat_id == SUPPORTER["id"]]
    assert [(c.method, c.ok, c.error) for c in refused] == [
        ("sendMessage", False, "Forbidden: bot was blocked by the user")
    ]
    # the group still hears of the milestone and the card still moves
    await api.wait_for("sendMessage", lambda c: c.chat_id == GROUP["id"], since=since)
    await core.cards.flush()
    edit = await api.wait_for(
        "editMessageText", lambda c: c.params["message_id"] == card["message_id"], since=since
    )
    assert "1 / 4 supporters" in edit.text


async def test_a_flood_limit_delays_the_message_but_it_arrives(
    tg: Driver, api: FakeTelegramApi
) -> None:
    api.fail_next("sendMessage", code=429, retry_after=1, match=lambda p: p["chat_id"] == 4001)
    since = api.mark()
    answer = await tg.say(SUPPORTER, private(SUPPORTER), "/help")
    assert answer.text == render(t("telegram.help"), "en")
    attempts = [c for c in api.calls[since:] if c.method == "sendMessage"]
    assert [(c.ok, c.error) for c in attempts] == [
        (False, "Too Many Requests: retry after 1"),
        (True, ""),
    ]
    assert attempts[0].params["text"] == attempts[1].params["text"]


async def test_cards_in_groups_never_carry_the_pledge_link(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    card = await tg.promote(ORGANISER, GROUP, campaign.ref)
    assert not any("/pledge/" in url for url in urls(card))
    answer = await tg.say(SUPPORTER, GROUP, f"/start {campaign.ref}")
    assert answer.text == render(t("telegram.private_only"), "en")
    assert urls(answer) == [f"https://t.me/chorus_test_bot?start={campaign.ref}"]
