"""The campaign's hashtag for the count: the first one of its message, as written."""

from __future__ import annotations

from bot.domain.trend import NetworkTrend, campaign_hashtag


def test_the_first_hashtag_is_the_campaigns() -> None:
    assert campaign_hashtag("Save #Bees and #trees https://x.example/#anchor") == "Bees"
    assert campaign_hashtag("No tag here, not even a#joined one") is None
    assert campaign_hashtag("Écoutez #ÉcoleOuverte") == "ÉcoleOuverte"


def test_a_network_total_adds_both_sides() -> None:
    trend = NetworkTrend("net", servers=2, unanswered=0, pledged=3, others=4, complete=True)
    assert trend.total == 7
