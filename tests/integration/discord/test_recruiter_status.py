"""``/status`` and the recruiter-name toggle through the Discord REST and gateway fake.

The supporter pledges, brings the outsider through their code, presses "Show my name" on
the pledge confirmation DM (which also carries link buttons with their own code), and
``/status`` then names them; an unknown reference gets a clear answer.
"""

from __future__ import annotations

from urllib.parse import unquote

from adapters.networks.mastodon import MASTODON
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.refs import UserRef
from bot.domain.text import t
from bot.i18n import render
from tests.integration.discord.conftest import DiscordHarness
from tests.integration.discord.test_campaign_loop import custom_ids
from tests.integration.discord.test_commands import live_campaign_with_pledge


async def test_status_and_the_consent_button(discord_bot: DiscordHarness) -> None:
    fake, core = discord_bot.fake, discord_bot.core
    ref = await live_campaign_with_pledge(discord_bot)
    supporter = UserRef("discord", fake.people["supporter"].id)
    outsider = UserRef("discord", fake.people["outsider"].id, "Outsider")
    code = core.pledges.recruits.code(ref, supporter)
    _, intro = await core.pledges.support(f"{ref}_{code}", outsider)
    url = next(b.url for row in intro.buttons for b in row if b.url)
    profile = LinkedProfile(MASTODON, "mastodon.example", "77", "out", 5, TokenSet("test-token-x"))
    await core.pledges.record(core.links.read(url.rsplit("/", 1)[1]), profile)

    def confirmation() -> dict | None:
        found = [m for m in fake.dm_messages("supporter") if custom_ids(m)]
        return found[-1] if found else None

    dm = await fake.wait_for(confirmation, what="pledge confirmation DM")
    assert custom_ids(dm) == [f"chorus:rname:{ref}"]
    links = [b["url"] for b in fake.buttons(dm) if "url" in b]
    assert links and all(f"/c/{ref}?via={code}" in unquote(link) for link in links)

    before = await fake.reply_to(await fake.slash("outsider", "status", ref=ref))
    assert render(t("recruiter.line_anonymous", rank=1, brought=1), "en") in fake.text_of(before)

    named = await fake.reply_to(await fake.press("supporter", dm["id"], f"chorus:rname:{ref}"))
    assert "you are shown as" in fake.text_of(named)
    names = await core.repo.recruiter_names((await core.repo.find_campaign(ref)).id or 0)
    [name] = names.values()
    assert name and fake.people["supporter"].id not in name

    after = await fake.reply_to(await fake.slash("outsider", "status", ref=ref))
    text = fake.text_of(after)
    assert render(t("recruiter.line_named", rank=1, name=name, brought=1), "en") in text
    assert f"/c/{ref}" in text and "Clean rivers now" in text

    unknown = await fake.reply_to(await fake.slash("outsider", "status", ref="nope"))
    assert fake.text_of(unknown) == render(t("status_command.unknown", ref="NOPE"), "en")


async def test_status_is_a_registered_slash_command(discord_bot: DiscordHarness) -> None:
    assert "status" in [c["name"] for c in discord_bot.fake.commands]
