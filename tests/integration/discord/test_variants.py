"""Discord: other wordings in the form's optional fifth field, one per blank-line block."""

from __future__ import annotations

from bot.domain.refs import UserRef
from bot.domain.variants import Variant
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import FORM, custom_ids, skip_optional
from tests.integration.discord.test_refusals import form_values

SECOND = "Clean water for all #cleanrivers https://example.org/rivers"
FRENCH = "Des rivières propres\n#cleanrivers https://example.org/rivers"
VARIANTS = f"{SECOND}\n\nfr: {FRENCH}\n"


async def test_the_form_asks_for_variants_in_an_optional_field(
    discord_bot: DiscordHarness,
) -> None:
    fake = discord_bot.fake
    modal = (await fake.reply_to(await fake.slash("organiser", "newcampaign")))["modal"]
    fields = [row["component"] for row in modal["components"]]
    assert [f["custom_id"] for f in fields] == ["title", "message", "variants", "goal", "launch"]
    assert [f["required"] for f in fields] == [True, True, False, True, True]


async def test_blocks_become_variants_and_reach_the_campaign(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    submitted = await fake.submit_modal(
        "organiser", "chorus:modal:campaign:new", {**FORM, "variants": VARIANTS}
    )
    networks = await fake.reply_to(submitted)
    await fake.reply_to(await fake.press("organiser", networks["id"], "chorus:dlg:net:mastodon"))
    asked = await fake.reply_to(
        await fake.press("organiser", networks["id"], "chorus:dlg:networks_done")
    )
    preview = await skip_optional(discord_bot, "organiser", asked)
    text = fake.text_of(preview)
    assert "Other wordings:" in text and f"2. {SECOND}" in text and "3. [fr] Des" in text

    edit = await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:edit"))
    assert form_values(edit["modal"])["variants"] == f"{SECOND}\n\nfr: {FRENCH}"

    await fake.reply_to(await fake.press("organiser", preview["id"], "chorus:dlg:submit"))
    organiser = UserRef("discord", fake.people["organiser"].id)
    [campaign] = await core.repo.campaigns_of(organiser)
    assert campaign.variants == (Variant(SECOND), Variant(FRENCH, "fr"))


async def test_a_wrong_variant_is_explained_and_the_form_reopens_with_it(
    discord_bot: DiscordHarness,
) -> None:
    fake = discord_bot.fake
    values = {**FORM, "variants": f"{SECOND}\n\nNo tag here https://example.org/rivers"}
    answer = await fake.reply_to(
        await fake.submit_modal("organiser", "chorus:modal:campaign:new", values)
    )
    assert "Wording 3 must keep the campaign's hashtags: #cleanrivers" in fake.text_of(answer)
    assert custom_ids(answer) == ["chorus:form", "chorus:dlg:cancel"]
    reopened = await fake.reply_to(await fake.press("organiser", answer["id"], "chorus:form"))
    assert form_values(reopened["modal"]) == values
    fixed = await fake.submit_modal("organiser", reopened["modal"]["custom_id"], FORM)
    assert "chorus:dlg:networks_done" in custom_ids(await fake.reply_to(fixed))
