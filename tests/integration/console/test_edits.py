"""Request changes and edits before the launch in the console: /changes with a note, the
organiser's /editcampaign and /resubmit, an edit after approval reaching the supporters with
a Withdraw button, and the scheduler following a moved launch."""

from __future__ import annotations

from tests.integration.console.conftest import Console


async def test_changes_edit_resubmit_and_an_edit_after_approval(console: Console) -> None:
    ref = await console.new_campaign(goal="2")
    printed = await console.type(f"/changes {ref}")
    assert "Please say what should change" in printed
    printed = await console.type(f"/changes {ref} Launch later, give people time")
    assert "asks for changes" in printed and "Launch later, give people time" in printed

    printed = await console.type(f"/editcampaign {ref}")
    assert "The moderator's note: Launch later, give people time" in printed
    assert f"/editcampaign {ref} followed by title" in printed
    printed = await console.type(f"/editcampaign {ref} launch in 2 days")
    assert f"/resubmit {ref}" in printed
    printed = await console.type(f"/resubmit {ref}", f"/approve {ref}")
    assert "is back with the moderators" in printed and "is live!" in printed

    await console.type("/as alice", f"/support {ref}")
    printed = await console.type(f"/editcampaign {ref} goal 9")
    assert f"Campaign {ref} is not yours" in printed
    printed = await console.type("/as you", f"/editcampaign {ref} goal 9")
    assert "Saved. 1 of 1 supporter was told." in printed
    assert "Goal: 2 supporters → 9 supporters" in printed
    assert "Withdraw my pledge" in printed
    printed = await console.type("/as alice", "1")
    assert f"Done: 1 pledge withdrawn from {ref}." in printed

    printed = await console.type("/as you", "/launch")  # the moved launch, two days on
    assert "2030-01-17" in printed
