"""Recognising a campaign's post on an account's timeline (tap read-back, crash recovery).

A post counts when it carries every hashtag of the campaign message; a message without
hashtags counts by its links; one with neither, by its text.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.message_rules import hashtags, links
from bot.domain.outcomes import RemotePost


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def is_campaign_post(post_text: str, campaign_message: str) -> bool:
    tags = hashtags(campaign_message)
    if tags:
        return tags <= hashtags(post_text)
    urls = links(campaign_message)
    if urls:
        return urls <= links(post_text)
    return _squash(campaign_message) in _squash(post_text)


def find_campaign_post(posts: Iterable[RemotePost], campaign_message: str) -> RemotePost | None:
    """The earliest post in ``posts`` that belongs to the campaign, if any."""
    matching = [p for p in posts if is_campaign_post(p.text, campaign_message)]
    return min(matching, key=lambda p: p.created_at) if matching else None
