"""Organiser updates and personal results in the console: /update, the Mute button,
and each supporter's own result after the launch."""

from __future__ import annotations

from tests.integration.console.conftest import Console


async def test_update_mute_and_personal_results(console: Console) -> None:
    ref = await console.live_campaign(goal="2")
    for name in ("alice", "bob"):
        await console.type(f"/as {name}", f"/support {ref}")

    printed = await console.type("/as you", f"/update {ref} Thank you all, keep sharing!")
    assert "reached 2 of 2 supporters (0 muted, 0 unreachable)" in printed
    assert printed.count("Thank you all, keep sharing!") == 2
    assert "Mute updates" in printed

    printed = await console.type("/as bob", "1")  # bob's copy came last: his button
    assert "You will get no more updates" in printed
    printed = await console.type("/as you", f"/update {ref} Launch soon")
    assert "reached 1 of 2 supporters (1 muted, 0 unreachable)" in printed
    assert printed.count("Launch soon") == 1

    printed = await console.type("/as alice", f"/update {ref} Hijack")
    assert f"Campaign {ref} is not yours" in printed
    printed = await console.type("/update")
    assert "/update REF TEXT" in printed

    printed = await console.type("/as you", "/launch")
    assert "has launched, and your post went out" in printed
    assert printed.count("Together: 2 supporters, 2 posts") == 2
