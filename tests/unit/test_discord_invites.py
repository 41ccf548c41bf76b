"""Only Discord server invites pass ``discord_invite``, written back in one form."""

from __future__ import annotations

import pytest

from adapters.discord.invites import discord_invite


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("https://discord.gg/abc123", "https://discord.gg/abc123"),
        ("  discord.gg/abc123/ ", "https://discord.gg/abc123"),
        ("http://www.discord.gg/Chorus-42", "https://discord.gg/Chorus-42"),
        ("https://discord.com/invite/abc123", "https://discord.gg/abc123"),
        ("HTTPS://DISCORDAPP.COM/INVITE/Abc", "https://discord.gg/Abc"),
    ],
)
def test_invites_are_taken(typed: str, canonical: str) -> None:
    assert discord_invite(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc123",
        "https://discord.gg/",
        "https://discord.gg/a",
        "https://discord.gg/abc/def",
        "https://discord.gg/abc?x=1",
        "https://discord.gg/abc#x",
        "https://discord.gg@evil.example/abc",
        "https://user:pw@discord.gg/abc",
        "https://discord.gg.evil.example/abc",
        "https://evil.example/discord.gg/abc",
        "https://discord.com/channels/1/2/3",
        "ftp://discord.gg/abc",
        "javascript:alert(1)//discord.gg/abc",
        "https://discord.gg/abc\nhttps://evil.example",
        "https://discord.gg/" + "a" * 33,
    ],
)
def test_anything_else_is_refused(typed: str) -> None:
    assert discord_invite(typed) is None
