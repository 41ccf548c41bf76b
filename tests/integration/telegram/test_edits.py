"""Request changes and edits before the launch on Telegram, through the Bot API fake: a
moderator asks for changes with a note, the organiser edits and resubmits, a new card is
approved; an edit after approval reaches every supporter in their language with a working
Withdraw button; a launch moved within a day goes back to moderation; strangers refused."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Chorus
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    MODERATION_CHAT,
    MODERATOR,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    callbacks,
    live_campaign,
    private,
    ref_of,
    sandbox_profile,
    waiting_campaign,
)


async def pledged(core: Chorus, campaign: Campaign, person: dict, remote: str) -> None:
    ticket = core.links.read(core.links.issue(campaign.ref, ref_of(person)))
    await core.pledges.record(ticket, sandbox_profile(remote, f"h{remote}"))


async def moderation_card(api: FakeTelegramApi, since: int) -> dict:
    call = await api.wait_for(
        "sendMessage",
        lambda c: c.chat_id == MODERATION_CHAT["id"] and bool(callbacks(c)),
        since=since,
    )
    return api.message(call)


async def test_request_changes_edit_resubmit_approve(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    since = api.mark()
    campaign = await waiting_campaign(core, clock)
    card = await moderation_card(api, since)
    assert callbacks(api.find("sendMessage", since=since)[0])[-1] == f"changes:{campaign.id}"

    refused = await tg.press(STRANGER, card, f"changes:{campaign.id}")
    assert refused.params["show_alert"] is True
    assert refused.params["text"] == render(t("moderation.not_moderator"), "en")

    since = api.mark()
    answered = await tg.press(MODERATOR, card, f"changes:{campaign.id}")
    assert answered.params["text"] == render(t("telegram.changes_asked"), "en")
    prompt_call = await api.wait_for(
        "sendMessage",
        lambda c: c.chat_id == MODERATION_CHAT["id"] and "force_reply" in c.params["reply_markup"],
        since=since,
    )
    assert f"the changes {campaign.ref} needs" in prompt_call.text
    done = await tg.say(
        MODERATOR, MODERATION_CHAT, "Add a link to the petition", reply_to=api.message(prompt_call)
    )
    assert done.text == render(
        t("changes.acknowledged", title=campaign.title, ref=campaign.ref), "en"
    )
    told = await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert "asks for changes" in told.text and "Add a link to the petition" in told.text
    edited = await api.wait_for(
        "editMessageText", lambda c: c.params["message_id"] == card["message_id"], since=since
    )
    assert "Changes requested by Maya Moderator" in edited.text
    stored = await core.campaigns.get(campaign.ref)
    assert (stored.status, stored.ref) == (CampaignStatus.CHANGES_REQUESTED, campaign.ref)

    # a replayed press on the old card is refused clearly
    replay = await tg.press_raw(MODERATOR, card, f"changes:{campaign.id}")
    assert replay.params["show_alert"] is True
    assert "cannot" in replay.params["text"]

    chat = private(ORGANISER)
    shown = await tg.say(ORGANISER, chat, f"/editcampaign {campaign.ref.lower()}")
    assert "Add a link to the petition" in shown.text
    stranger = await tg.say(STRANGER, private(STRANGER), f"/editcampaign {campaign.ref}")
    assert stranger.text == render(t("campaign.not_yours", ref=campaign.ref), "en")
    new_message = "Our rivers deserve better #cleanrivers https://example.org/petition"
    saved = await tg.say(ORGANISER, chat, f"/editcampaign {campaign.ref} message {new_message}")
    assert saved.text == render(t("edit.saved_resubmit", ref=campaign.ref), "en")
    usage = await tg.say(ORGANISER, chat, "/resubmit")
    assert usage.text == render(t("telegram.usage_resubmit"), "en")

    since = api.mark()
    back = await tg.say(ORGANISER, chat, f"/resubmit {campaign.ref}")
    assert "is back with the moderators" in back.text
    new_card = await moderation_card(api, since)
    assert new_card["message_id"] != card["message_id"]
    await tg.press(MODERATOR, new_card, f"approve:{campaign.id}")
    approved = await core.campaigns.get(campaign.ref)
    assert approved.status is CampaignStatus.LIVE and approved.message == new_message


async def test_an_edit_after_approval_reaches_each_supporter_in_their_language(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock, goal=4)
    await pledged(core, campaign, SUPPORTER, "r1")
    await pledged(core, campaign, FRENCH, "r2")
    since = api.mark()
    saved = await tg.say(ORGANISER, private(ORGANISER), f"/editcampaign {campaign.ref} goal 25")
    assert saved.text == "Saved. 2 of 2 supporters were told."
    to_english = api.find("sendMessage", lambda c: c.chat_id == SUPPORTER["id"], since)[-1]
    assert "Goal: 4 supporters → 25 supporters" in to_english.text
    assert callbacks(to_english) == [f"withdraw:{campaign.ref}"]
    to_french = api.find("sendMessage", lambda c: c.chat_id == FRENCH["id"], since)[-1]
    assert "Objectif : 4 soutiens → 25 soutiens" in to_french.text
    assert "L'organisateur a modifié" in to_french.text

    since = api.mark()
    await tg.press(FRENCH, api.message(to_french), f"withdraw:{campaign.ref}")
    withdrawn = await api.wait_for("sendMessage", lambda c: c.chat_id == FRENCH["id"], since=since)
    assert withdrawn.text == render(t("unpledge.done", count=1, ref=campaign.ref), "fr")
    assert campaign.id is not None
    left = await core.repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])
    assert [p.supporter.key for p in left] == [ref_of(SUPPORTER).key]
    again = await tg.press(FRENCH, api.message(to_french), f"withdraw:{campaign.ref}")
    assert again.params["show_alert"] is True  # nothing left to withdraw: said so


async def test_a_launch_moved_within_a_day_goes_back_to_moderation(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    await pledged(core, campaign, SUPPORTER, "r1")
    soon = (clock.now() + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    since = api.mark()
    saved = await tg.say(
        ORGANISER, private(ORGANISER), f"/editcampaign {campaign.ref} launch {soon}"
    )
    assert (
        saved.text
        == f"Saved. {campaign.ref} goes back to the moderators; 1 of 1 supporter was told."
    )
    new_card = await moderation_card(api, since)
    assert callbacks(
        api.find("sendMessage", lambda c: c.chat_id == MODERATION_CHAT["id"], since)[-1]
    )
    told = api.find("sendMessage", lambda c: c.chat_id == SUPPORTER["id"], since)[-1]
    assert "goes back to the moderators" in told.text
    stored = await core.campaigns.get(campaign.ref)
    assert stored.status is CampaignStatus.PENDING_REVIEW
    assert stored.launch_at == clock.now().replace(second=0, microsecond=0) + timedelta(hours=5)
    assert campaign.id is not None
    assert len(await core.repo.pledges_of_campaign(campaign.id, [PledgeStatus.PLEDGED])) == 1
    await tg.press(MODERATOR, new_card, f"approve:{campaign.id}")
    assert (await core.campaigns.get(campaign.ref)).status is CampaignStatus.LIVE
