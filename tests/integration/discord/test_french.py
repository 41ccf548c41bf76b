"""Everything a French-speaking Discord user reads is in French."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.networks.sandbox import SANDBOX
from bot.dialog import CampaignDraft
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.testing.clock import FakeClock
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import (
    DiscordHarness,
    discord_settings,
    start_bot,
)
from tests.integration.discord.test_campaign_loop import FORM, skip_optional

NETWORKS = (SANDBOX,)


async def test_french_form_errors_and_replies(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    command = await fake.slash("organiser", "newcampaign", locale="fr")
    modal = (await fake.reply_to(command))["modal"]
    assert modal["title"] == "Nouvelle campagne"
    labels = [row["label"] for row in modal["components"]]
    assert labels[0] == "Titre"

    submitted = await fake.submit_modal(
        "organiser", modal["custom_id"], {**FORM, "goal": "-3"}, locale="fr"
    )
    answer = await fake.reply_to(submitted)
    text = fake.text_of(answer)
    assert "L'objectif ne peut pas être négatif" in text
    assert "Corriger le formulaire" in text

    help_ = await fake.reply_to(await fake.slash("supporter", "help", locale="fr-FR"))
    assert "Chorus rassemble des soutiens" in fake.text_of(help_)


async def test_private_messages_use_the_language_the_person_used(
    discord_bot: DiscordHarness,
) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    submitted = await fake.submit_modal(
        "organiser", "chorus:modal:campaign:new", FORM, locale="fr"
    )
    networks = await fake.reply_to(submitted)
    assert "Terminé" in fake.text_of(networks)
    await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:net:sandbox", locale="fr")
    )
    asked = await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done", locale="fr")
    )
    assert "Racontez l'histoire" in fake.text_of(asked) and "Passer" in fake.text_of(asked)
    preview = await skip_optional(discord_bot, "organiser", asked, locale="fr")
    await fake.reply_to(
        await fake.press("organiser", preview["id"], "chorus:dlg:submit", locale="fr")
    )
    (campaign,) = await core.repo.campaigns_of(UserRef("discord", fake.people["organiser"].id))
    assert campaign.organiser.language == "fr"
    (card,) = fake.channel_messages("moderation")
    await fake.reply_to(await fake.press("moderator", card["id"], f"chorus:approve:{campaign.id}"))
    (dm,) = await fake.wait_for(lambda: fake.dm_messages("organiser"), what="organiser DM")
    assert "est en ligne" in dm["content"]


async def test_a_french_server_gets_french_cards(
    repo: Repository, clock: FakeClock, tmp_path: Path
) -> None:
    fake = FakeDiscord(locale="fr")
    await fake.start()
    bot = await start_bot(fake, discord_settings(fake, tmp_path), repo, clock)
    core = bot.core
    try:
        organiser = UserRef("discord", fake.people["organiser"].id, "Organiser", "en")
        draft = CampaignDraft(
            "Vélo pour tous", "En selle #velo", 10, clock.now() + timedelta(days=2), NETWORKS
        )
        campaign = await core.campaigns.submit(draft, organiser)
        assert campaign.id is not None
        await core.moderation.approve(
            campaign.id, UserRef("discord", fake.people["moderator"].id), may_moderate=True
        )
        # an English-speaking organiser promotes it on a French server: the card is French
        promote = await fake.slash("organiser", "promote", ref=campaign.ref, locale="en-US")
        answer = await fake.reply_to(promote)
        assert "now posted" in fake.text_of(answer)
        (card,) = fake.channel_messages("general")
        text = fake.text_of(card)
        assert "Lancement" in text
        assert "Soutenir" in text
    finally:
        await bot.stop()
        await fake.stop()
