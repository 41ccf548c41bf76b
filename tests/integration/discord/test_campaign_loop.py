"""The whole campaign loop on Discord, driven through discord.py by gateway events.

Form → networks → preview → submit → moderation card → approve → /promote card →
Support → private pledge link → pledge recorded (as the web page would) → card updated.
"""

from __future__ import annotations

from typing import Any

from adapters.networks.mastodon import MASTODON
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import CampaignStatus
from bot.domain.refs import UserRef
from tests.fakes.discord_api import EPHEMERAL, FakeDiscord
from tests.integration.discord.conftest import LAUNCH_TEXT, DiscordHarness

FORM = {
    "title": "Clean rivers now",
    "message": "Our rivers deserve better #cleanrivers https://example.org/rivers",
    "goal": "3",
    "launch": LAUNCH_TEXT,
}


PREVIEW_BUTTONS = ["chorus:dlg:submit", "chorus:dlg:edit", "chorus:dlg:cancel", "chorus:story"]


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for c in FakeDiscord.buttons(message) if "custom_id" in c]


async def skip_optional(
    h: DiscordHarness, person: str, asked: dict[str, Any], *, locale: str | None = None
) -> dict[str, Any]:
    """At the story step: press Skip for the story, then for the picture; the preview."""
    fake = h.fake
    assert "chorus:story" in custom_ids(asked)
    picture = await fake.reply_to(
        await fake.press(person, asked["id"], "chorus:dlg:skip", locale=locale)
    )
    assert "/campaignpicture" in fake.text_of(picture)
    return await fake.reply_to(
        await fake.press(person, picture["id"], "chorus:dlg:skip", locale=locale)
    )


async def write_story(
    h: DiscordHarness,
    person: str,
    asked: dict[str, Any],
    story: str,
    *,
    channel: str = "general",
) -> dict[str, Any]:
    """At the story step (or the preview): write ``story`` in its own form, or press Skip
    when it is empty; the dialog's next message."""
    fake = h.fake
    if not story:
        return await fake.reply_to(await fake.press(person, asked["id"], "chorus:dlg:skip"))
    modal = (await fake.reply_to(await fake.press(person, asked["id"], "chorus:story")))["modal"]
    assert modal["custom_id"] == "chorus:modal:story"
    submitted = await fake.submit_modal(person, modal["custom_id"], {"story": story}, channel)
    return await fake.reply_to(submitted)


async def create_campaign(
    h: DiscordHarness,
    person: str = "organiser",
    *,
    story: str = "",
    picture: bytes | None = None,
    post_here: bool = False,
    channel: str = "general",
) -> dict[str, Any]:
    """Fill the form in ``channel``, choose Mastodon, write ``story`` in its own form or
    skip it, send ``picture`` with /campaignpicture or skip it, submit; return the
    moderation card.

    Unless ``post_here``, the organiser declines the card in ``channel`` once approved
    (the tests of /promote post it themselves).
    """
    fake = h.fake
    command = await fake.slash(person, "newcampaign", channel=channel)
    modal = (await fake.reply_to(command))["modal"]
    assert modal["custom_id"] == "chorus:modal:campaign:new"
    submitted = await fake.submit_modal(person, modal["custom_id"], FORM, channel=channel)
    networks = await fake.reply_to(submitted)
    assert networks["flags"] & EPHEMERAL
    assert "chorus:dlg:net:mastodon" in custom_ids(networks)
    toggled = await fake.reply_to(
        await fake.press(person, networks["id"], "chorus:dlg:net:mastodon")
    )
    assert "✅ Mastodon" in fake.text_of(toggled)
    asked = await fake.reply_to(
        await fake.press(person, networks["id"], "chorus:dlg:networks_done")
    )
    assert "Tell the story behind the campaign" in fake.text_of(asked)
    assert custom_ids(asked) == ["chorus:story", "chorus:dlg:skip", "chorus:dlg:cancel"]
    asked = await write_story(h, person, asked, story, channel=channel)
    assert "/campaignpicture" in fake.text_of(asked)
    assert custom_ids(asked) == ["chorus:dlg:skip", "chorus:dlg:cancel"]
    if picture is None:
        preview = await fake.reply_to(await fake.press(person, asked["id"], "chorus:dlg:skip"))
    else:
        preview = await fake.reply_to(
            await fake.slash_with_file(person, "campaignpicture", "image", picture)
        )
    assert "Please check your campaign" in fake.text_of(preview)
    assert "Clean rivers now" in fake.text_of(preview)
    assert custom_ids(preview) == PREVIEW_BUTTONS
    done = await fake.reply_to(await fake.press(person, preview["id"], "chorus:dlg:submit"))
    assert "has been sent to the moderators" in fake.text_of(done)
    assert "Once approved, its card will be posted in this channel." in fake.text_of(done)
    (off,) = custom_ids(done)
    assert off.startswith("chorus:origin:off:")
    if not post_here:
        declined = await fake.reply_to(await fake.press(person, done["id"], off))
        assert "will not be posted in this channel" in fake.text_of(declined)
    cards = await fake.wait_for(lambda: fake.channel_messages("moderation"), what="mod card")
    return cards[-1]


async def test_full_campaign_loop(discord_bot: DiscordHarness) -> None:
    h, fake, core = discord_bot, discord_bot.fake, discord_bot.core
    card = await create_campaign(h)
    organiser = UserRef("discord", fake.people["organiser"].id)
    (campaign,) = await core.repo.campaigns_of(organiser)
    assert campaign.status is CampaignStatus.PENDING_REVIEW
    assert campaign.networks == (MASTODON,)
    assert campaign.origin_chat is not None and campaign.origin_chat.platform == "discord"
    assert custom_ids(card) == [
        f"chorus:approve:{campaign.id}",
        f"chorus:reject:{campaign.id}",
        f"chorus:changes:{campaign.id}",
    ]
    assert campaign.ref in fake.text_of(card)

    # a moderator approves: the card loses its buttons, the organiser hears by DM
    approval = await fake.reply_to(
        await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}")
    )
    assert approval["flags"] & EPHEMERAL
    assert "approved" in fake.text_of(approval)
    edited = await fake.wait_for_call("PATCH", rf"/channels/\d+/messages/{card['id']}")
    assert edited.body["components"] == []
    assert "Approved by Moderator" in fake.text_of(fake.messages[card["id"]])
    dms = await fake.wait_for(lambda: fake.dm_messages("organiser"), what="organiser DM")
    assert f"/promote {campaign.ref}" in dms[-1]["content"]

    # the organiser promotes it in #general: an embed with the figures and Support
    promoted = await fake.reply_to(await fake.slash("organiser", "promote", ref=campaign.ref))
    assert "now posted" in fake.text_of(promoted)
    (public,) = fake.channel_messages("general")
    embed = public["embeds"][0]
    assert embed["title"] == f"📣 Clean rivers now ({campaign.ref})"
    assert "0 / 3 supporters" in embed["description"]
    assert "reach 0" in embed["description"]
    assert "2030-01-17 18:00 UTC" in embed["description"]
    assert custom_ids(public) == [f"chorus:support:{campaign.ref}"]

    # a supporter presses Support: a private link of their own
    support = await fake.reply_to(
        await fake.press("supporter", public["id"], f"chorus:support:{campaign.ref}")
    )
    assert support["flags"] & EPHEMERAL
    (link_button,) = FakeDiscord.buttons(support)
    assert link_button["style"] == 5
    url = link_button["url"]
    assert url.startswith("http://127.0.0.1:8080/pledge/")

    # the pledge web page links a Mastodon account and records the pledge
    ticket = core.links.read(url.rsplit("/", 1)[1])
    assert ticket.supporter == UserRef("discord", fake.people["supporter"].id, "Supporter", "en")
    profile = LinkedProfile(
        network=MASTODON,
        instance="mastodon.example",
        remote_id="4242",
        handle="sam",
        followers=120,
        tokens=TokenSet("test-token-not-real"),
    )
    await core.pledges.record(ticket, profile)
    await core.cards.flush()

    def card_updated() -> bool:
        description = fake.messages[public["id"]]["embeds"][0]["description"]
        return "1 / 3 supporters" in description and "reach 120" in description

    await fake.wait_for(card_updated, what="promotion card edit")
    assert custom_ids(fake.messages[public["id"]]) == [f"chorus:support:{campaign.ref}"]
    thanks = await fake.wait_for(lambda: fake.dm_messages("supporter"), what="supporter DM")
    assert "@sam@mastodon.example" in thanks[-1]["content"]
