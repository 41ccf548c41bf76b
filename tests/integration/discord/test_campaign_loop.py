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


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for c in FakeDiscord.buttons(message) if "custom_id" in c]


async def create_campaign(
    h: DiscordHarness,
    person: str = "organiser",
    *,
    story: str = "",
    picture: bytes | None = None,
) -> dict[str, Any]:
    """Fill the form (with ``story``), choose Mastodon, send ``picture`` with
    /campaignpicture or skip it, submit; return the moderation card."""
    fake = h.fake
    command = await fake.slash(person, "newcampaign")
    modal = (await fake.reply_to(command))["modal"]
    assert modal["custom_id"] == "chorus:modal:campaign:new"
    submitted = await fake.submit_modal(person, modal["custom_id"], {**FORM, "story": story})
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
    assert "/campaignpicture" in fake.text_of(asked)  # the story came from the form
    assert custom_ids(asked) == ["chorus:dlg:skip", "chorus:dlg:cancel"]
    if picture is None:
        preview = await fake.reply_to(await fake.press(person, asked["id"], "chorus:dlg:skip"))
    else:
        preview = await fake.reply_to(
            await fake.slash_with_file(person, "campaignpicture", "image", picture)
        )
    assert "Please check your campaign" in fake.text_of(preview)
    assert "Clean rivers now" in fake.text_of(preview)
    assert custom_ids(preview) == ["chorus:dlg:submit", "chorus:dlg:edit", "chorus:dlg:cancel"]
    done = await fake.reply_to(await fake.press(person, preview["id"], "chorus:dlg:submit"))
    assert "has been sent to the moderators" in fake.text_of(done)
    assert custom_ids(done) == []
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
    assert custom_ids(card) == [f"chorus:approve:{campaign.id}", f"chorus:reject:{campaign.id}"]
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
