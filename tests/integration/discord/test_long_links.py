"""A link too long for a Discord button (over 512 characters) goes out as a line of text.

The loopback Discord refuses a link button with a longer URL, as Discord does, so these
messages only arrive if the renderer moved the link out of the buttons.
"""

from __future__ import annotations

from typing import Any

from adapters.discord.rendering import CONTENT_MAX, LINK_URL_MAX, Renderer
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.refs import ChatRef, UserRef
from bot.domain.text import t
from tests.fakes.discord_api import FakeDiscord
from tests.integration.discord.conftest import DiscordHarness

LONG_URL = "https://compose.example/intent/post?text=x" + "%C3%A9" * 93  # 600 characters
SHORT_URL = "https://chorus.example/tap/short-token"


def tap_like(url: str) -> OutgoingMessage:
    return OutgoingMessage.of(
        t("blast.tap_offer", title="Save the bees", account="@fan"),
        t("blast.tap_text", message="Save the bees #SaveBees"),
        buttons=((Button(t("blast.tap_button", network=t("network.x")), url=url),),),
    )


def link_urls(message: dict[str, Any]) -> list[str]:
    return [c["url"] for c in FakeDiscord.buttons(message) if "url" in c]


async def test_a_600_character_link_is_sent_as_text_in_a_private_message(
    discord_bot: DiscordHarness,
) -> None:
    assert len(LONG_URL) == 600
    fake, front = discord_bot.fake, discord_bot.front
    supporter = UserRef("discord", fake.people["supporter"].id, "Supporter", "en")

    await front.send_to_user(supporter, tap_like(LONG_URL))

    (message,) = fake.dm_messages("supporter")
    assert link_urls(message) == []
    assert f"Post on X: <{LONG_URL}>" in message["content"]
    assert "launching now" in message["content"]


async def test_a_short_link_stays_a_button(discord_bot: DiscordHarness) -> None:
    fake, front = discord_bot.fake, discord_bot.front
    supporter = UserRef("discord", fake.people["supporter"].id, "Supporter", "en")

    await front.send_to_user(supporter, tap_like(SHORT_URL))

    (message,) = fake.dm_messages("supporter")
    assert link_urls(message) == [SHORT_URL]
    assert SHORT_URL not in message["content"]


async def test_a_long_link_in_a_card_goes_into_the_embed(discord_bot: DiscordHarness) -> None:
    fake, front = discord_bot.fake, discord_bot.front
    message = OutgoingMessage.of(
        t("blast.tap_text", message="Save the bees"),
        buttons=(
            (
                Button(t("blast.tap_button", network=t("network.x")), url=LONG_URL),
                Button(t("blast.tap_button", network=t("network.mastodon")), url=SHORT_URL),
            ),
        ),
    )

    await front.send(ChatRef("discord", fake.channels["general"]["id"]), message, "en")

    (card,) = fake.channel_messages("general")
    assert link_urls(card) == [SHORT_URL]
    assert f"Post on X: <{LONG_URL}>" in card["embeds"][0]["description"]


def test_a_long_body_is_clipped_and_the_link_kept_whole(discord_bot: DiscordHarness) -> None:
    renderer = Renderer(discord_bot.settings.timezone)
    message = OutgoingMessage.of(
        t("blast.tap_text", message="bees " * 600),
        buttons=((Button(t("blast.tap_button", network=t("network.x")), url=LONG_URL),),),
    )

    rendered = renderer.as_content(message, "en")

    assert rendered.content is not None
    assert len(rendered.content) <= CONTENT_MAX
    assert rendered.content.endswith(f"<{LONG_URL}>")
    assert "…" in rendered.content
    assert rendered.view is None  # no button left: no empty view


def test_a_link_longer_than_a_whole_message_is_left_out_not_cut(
    discord_bot: DiscordHarness,
) -> None:
    renderer = Renderer(discord_bot.settings.timezone)
    huge = "https://compose.example/?text=" + "x" * CONTENT_MAX
    assert len(huge) > LINK_URL_MAX

    rendered = renderer.as_content(tap_like(huge), "en")

    assert rendered.content is not None
    assert len(rendered.content) <= CONTENT_MAX
    assert "compose.example" not in rendered.content
    assert "launching now" in rendered.content
