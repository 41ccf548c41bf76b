"""Console: other wordings typed one per line, removed and finished with numbered buttons."""

from __future__ import annotations

from bot.domain.variants import Variant
from tests.integration.console.conftest import Console

MESSAGE = "Join us #savethepark https://example.org/park"
SECOND = "The park needs us #savethepark https://example.org/park"
FRENCH = "Sauvons le parc #savethepark https://example.org/park"


async def test_variants_in_the_console(console: Console) -> None:
    printed = await console.type("/newcampaign", "Save the park", MESSAGE)
    assert "[1] Skip" in printed
    printed = await console.type(SECOND, f"fr: {FRENCH}")
    assert f"2. {SECOND}" in printed and f"3. [fr] {FRENCH}" in printed
    assert "[1] 🗑 Remove 2   [2] 🗑 Remove 3" in printed
    printed = await console.type("No hashtag https://example.org/park")
    assert "Wording 4 must keep the campaign's hashtags: #savethepark is missing." in printed
    printed = await console.type("1")  # Remove 2
    assert f"2. {SECOND}" not in printed and f"2. [fr] {FRENCH}" in printed
    await console.type("2", "3", "in 2 hours")  # Done, the goal, the launch
    await console.type("1", "1")  # Skip the story, Skip the picture
    printed = await console.type("1")  # Submit
    ref = printed.split("New campaign ", 1)[1].split()[0]
    campaign = await console.core.campaigns.get(ref)
    assert campaign.variants == (Variant(FRENCH, "fr"),)
