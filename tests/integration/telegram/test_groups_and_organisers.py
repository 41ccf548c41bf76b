"""Groups and organisers: who may /promote, card edits (including the harmless
"message is not modified"), /mycampaigns and /cancelcampaign."""

from __future__ import annotations

from adapters.telegram.client import build_application
from adapters.telegram.inbound import TelegramInbound
from adapters.telegram.outbound import TelegramOutbound
from adapters.telegram.refs import chat_ref
from bot.app import Chorus
from bot.domain.campaign import CampaignStatus
from bot.domain.cards import CardKind
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import MessageRef
from bot.domain.text import t
from bot.i18n import render
from bot.ports import Repository
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    GROUP,
    GROUP_ADMIN,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    live_campaign,
    pledge_token,
    private,
    ref_of,
    sandbox_profile,
)


async def test_only_the_organiser_or_a_group_admin_may_promote(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    refused = await tg.promote(STRANGER, GROUP, campaign.ref)
    assert refused.text == render(t("promote.not_allowed"), "en")
    assert refused.buttons == []
    by_admin = await tg.promote(GROUP_ADMIN, GROUP, campaign.ref)
    assert by_admin.text.startswith(f"📣 {campaign.title} ({campaign.ref})")
    cards = await core.announcer.promoted_chats(campaign.id or 0)
    assert cards == [(chat_ref(GROUP["id"]), "en")]


async def test_promote_refusals_are_explained(tg: Driver, core: Chorus, clock: FakeClock) -> None:
    assert (await tg.say(ORGANISER, GROUP, "/promote")).text == render(
        t("telegram.usage_promote"), "en"
    )
    unknown = await tg.say(ORGANISER, GROUP, "/promote NOPE99")
    assert unknown.text == render(t("campaign.not_found", ref="NOPE99"), "en")
    campaign = await live_campaign(core, clock)
    await core.campaigns.cancel(campaign.ref, ref_of(ORGANISER))
    closed = await tg.promote(ORGANISER, GROUP, campaign.ref)
    assert closed.text == render(
        t("promote.not_live", ref=campaign.ref, status=t("status.cancelled")), "en"
    )


async def test_a_french_promoter_gets_a_french_card(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    api.make_admin(GROUP["id"], FRENCH["id"])
    card = await tg.promote(FRENCH, GROUP, campaign.ref)
    launch = render(t("card.launch", launch_at=campaign.launch_at), "fr")
    assert launch in card.text
    assert launch != render(t("card.launch", launch_at=campaign.launch_at), "en")
    assert card.buttons[0]["text"] == render(t("button.support"), "fr")


async def test_an_identical_edit_is_not_an_error(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    front_end: TelegramInbound,
    outbound: TelegramOutbound,
) -> None:
    campaign = await live_campaign(core, clock)
    card_call = await tg.promote(ORGANISER, GROUP, campaign.ref)
    card = api.message(card_call)
    assert card_call.text.endswith(f"/c/{campaign.ref}")  # the card announces the page
    assert "🌐 Campaign page: http" in card_call.text
    stats = await core.repo.campaign_stats(campaign.id or 0)
    since = api.mark()
    ref = MessageRef(chat_ref(GROUP["id"]), str(card["message_id"]))
    await outbound.edit(ref, core.cards.card(campaign, stats), "en")
    edits = api.calls[since:]
    assert [(c.method, c.ok) for c in edits] == [("editMessageText", False)]
    assert "message is not modified" in edits[0].error
    assert api.messages[(GROUP["id"], card["message_id"])]["text"] == card_call.text


async def test_promoting_again_moves_the_card_to_the_bottom_of_the_group(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    first = api.message(await tg.promote(ORGANISER, GROUP, campaign.ref))
    since = api.mark()

    second = api.message(await tg.promote(GROUP_ADMIN, GROUP, campaign.ref))

    [deleted] = api.find("deleteMessage", since=since)
    assert (deleted.chat_id, deleted.params["message_id"]) == (GROUP["id"], first["message_id"])
    cards = [m for m in api.messages_in(GROUP["id"]) if m["from"]["id"] == api.bot["id"]]
    assert [m["message_id"] for m in cards] == [second["message_id"]]
    [stored] = await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION)
    assert stored.message == MessageRef(chat_ref(GROUP["id"]), str(second["message_id"]))


async def test_a_card_deleted_by_hand_is_replaced_all_the_same(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    first = api.message(await tg.promote(ORGANISER, GROUP, campaign.ref))
    del api.messages[(GROUP["id"], first["message_id"])]  # an admin removed it
    since = api.mark()

    second = api.message(await tg.promote(ORGANISER, GROUP, campaign.ref))

    [call] = [c for c in api.calls[since:] if c.method == "deleteMessage"]
    assert not call.ok and "not found" in call.error
    [stored] = await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION)
    assert stored.message.id == str(second["message_id"])


async def test_mycampaigns_and_cancelcampaign(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    chat = private(ORGANISER)
    assert (await tg.say(ORGANISER, chat, "/mycampaigns")).text == render(
        t("mycampaigns.none"), "en"
    )
    campaign = await live_campaign(core, clock)
    listed = await tg.say(ORGANISER, chat, "/mycampaigns")
    assert listed.text.startswith(render(t("mycampaigns.header"), "en"))
    assert f"{campaign.ref} · {campaign.title} · live · 0 / 4 supporters · reach 0" in listed.text

    card = api.message(await tg.promote(ORGANISER, GROUP, campaign.ref))
    token = pledge_token(await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}"))
    await core.pledges.record(core.links.read(token), sandbox_profile())

    not_yours = await tg.say(STRANGER, private(STRANGER), f"/cancelcampaign {campaign.ref}")
    assert not_yours.text == render(t("campaign.not_yours", ref=campaign.ref), "en")

    since = api.mark()
    done = await tg.say(ORGANISER, chat, f"/cancelcampaign {campaign.ref}")
    assert done.text == render(
        t("campaign.cancelled", ref=campaign.ref, title=campaign.title), "en"
    )
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.CANCELLED
    cancelled = render(t("card.status_cancelled"), "en")
    edit = await api.wait_for(  # the pledge's own refresh of the card may come first
        "editMessageText",
        lambda c: c.params["message_id"] == card["message_id"] and cancelled in c.text,
        since=since,
    )
    assert edit.buttons == []
    told = await api.wait_for("sendMessage", lambda c: c.chat_id == SUPPORTER["id"], since=since)
    assert told.text == render(t("supporter.campaign_cancelled", title=campaign.title), "en")


async def test_without_a_moderation_chat_there_is_no_moderation_card(
    settings: Settings, repo: Repository, clock: FakeClock
) -> None:
    alone = settings.model_copy(update={"telegram_moderation_chat_id": None})
    front = TelegramOutbound(alone, build_application(alone).bot)
    assert await front.send_to_moderators(OutgoingMessage.of(t("telegram.help"))) == []
