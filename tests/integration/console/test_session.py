"""The console session end to end in-process: dialog, moderation, pledges, launch, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from adapters.console.session import sandbox_followers
from bot.domain.campaign import CampaignStatus
from bot.domain.pledge import PledgeStatus
from bot.domain.text import t
from bot.i18n import render
from tests.integration.console.conftest import Console


def said(key: str, language: str = "en", **params: Any) -> str:
    return render(t(key, **params), language)


async def test_whole_campaign_from_dialog_to_launch_report(
    console: Console, tmp_path: Path
) -> None:
    printed = await console.type(
        "/newcampaign",
        "Save the park",
        "Join us #savethepark https://example.org/park",
        "1",  # Skip: no other wordings
        "lots",  # wrong: re-asked with the reason
    )
    assert said("goal.not_a_number", value="lots") in printed
    assert printed.count(said("dialog.ask_goal")) == 2
    printed = await console.type("3", "in 2 hours")
    assert "[1] Skip   [2] Cancel" in printed  # the story
    printed = await console.type("The park is ours.")
    assert said("console.picture_hint") in printed
    printed = await console.type(str(tmp_path / "missing.jpg"))
    assert said("console.no_such_picture", path=str(tmp_path / "missing.jpg")) in printed
    (tmp_path / "notes.txt").write_text("not a picture")
    printed = await console.type(str(tmp_path / "notes.txt"))
    assert said("picture.bad_type") in printed
    picture = tmp_path / "park.png"
    Image.new("RGB", (64, 48), (20, 160, 60)).save(picture)
    printed = await console.type(str(picture))
    assert "Story: The park is ours.\nPicture: attached" in printed
    assert "[1] Submit   [2] Edit   [3] Cancel" in printed
    printed = await console.type("1")
    ref = printed.split("New campaign ", 1)[1].split()[0]
    assert "#moderation" in printed
    campaign = await console.core.campaigns.get(ref)
    assert campaign.status is CampaignStatus.PENDING_REVIEW

    printed = await console.type(f"/approve {ref}", f"/promote {ref}")
    assert said("organiser.approved", title="Save the park", ref=ref) in printed
    assert "#group" in printed and "[1] Support" in printed

    for name in ("alice", "bob"):
        printed = await console.type(f"/as {name}", f"/support {ref}")
        assert "/pledge/" in printed  # the pledge link, printed as a link
        assert f"@{name}" in printed
    await console.type("/as carol", "1")  # carol presses Support on the group card
    await console.type(
        "/as dave", f"/support {ref} My words #savethepark https://example.org/park"
    )

    printed = await console.type("/as you", "/launch")
    posts = console.sandbox.all_posts
    assert sorted(p.handle for p in posts) == ["alice", "bob", "carol", "dave"]
    assert [p.text for p in posts if p.handle == "dave"] == [
        "My words #savethepark https://example.org/park"
    ]
    for post in posts:
        assert said("console.posted", handle=post.handle, text=post.text) in printed
    reach = sum(sandbox_followers(name) for name in ("alice", "bob", "carol", "dave"))
    assert said("blast.report_posted", count=4) in printed
    assert said("blast.report_reach", reach=reach) in printed
    launched = await console.core.campaigns.get(ref)
    assert launched.status is CampaignStatus.LAUNCHED
    assert launched.id is not None
    stats = await console.core.repo.campaign_stats(launched.id)
    assert (stats.posted, stats.posted_reach) == (4, reach)

    printed = await console.type(f"/status {ref}")
    assert said("console.status_results", posted=4, failed=0, reach=reach) in printed


async def test_wait_runs_what_became_due_and_a_missed_goal_posts_nothing(
    console: Console,
) -> None:
    ref = await console.live_campaign(goal="5")
    await console.type("/as alice", f"/support {ref}", "/as you")
    printed = await console.type("/wait 1h")
    assert console.sandbox.all_posts == []
    assert (await console.core.campaigns.get(ref)).status is CampaignStatus.LIVE
    assert "🕒" in printed
    printed = await console.type("/wait 1h30m")
    assert console.sandbox.all_posts == []
    assert (await console.core.campaigns.get(ref)).status is CampaignStatus.FAILED
    assert "did not reach its goal" in printed


async def test_a_bare_number_answers_the_dialog_when_it_asks_for_text(console: Console) -> None:
    await console.type("/newcampaign", "Save the park", "Join #park https://example.org", "1")
    printed = await console.type("1")  # the goal, not the Cancel button
    assert said("dialog.ask_launch", timezone="UTC", minutes=60) in printed
    printed = await console.type("/press 1")  # now really Cancel
    assert said("dialog.cancelled") in printed
    printed = await console.type("/cancel")
    assert said("dialog.none_active") in printed


async def test_unknown_commands_and_bad_input_get_a_clear_line(console: Console) -> None:
    cases = {
        "/frobnicate": said("console.unknown_command", command="/frobnicate"),
        "/press 1": said("console.no_buttons"),
        "/as": said("console.usage", usage="/as NAME"),
        "/as bad name!": said("console.bad_persona", value="bad name!"),
        "/wait": said("console.usage", usage="/wait DURATION"),
        "/wait soon": said("console.bad_duration", value="soon"),
        "/wait 0m": said("console.bad_duration", value="0m"),
        "/approve": said("console.usage", usage="/approve REF"),
        "/approve ZZZZZZ": said("campaign.not_found", ref="ZZZZZZ"),
        "/support": said("console.usage", usage="/support REF [your own words]"),
        "/status nope": said("campaign.not_found", ref="NOPE"),
        "/launch": said("console.nothing_to_launch"),
        "hello": said("dialog.none_active"),
        "/mycampaigns": said("mycampaigns.none"),
        "/mypledges": said("mypledges.none"),
    }
    for line, expected in cases.items():
        assert expected in await console.type(line), line


async def test_buttons_refuse_numbers_that_are_not_on_the_last_message(
    console: Console,
) -> None:
    await console.type("/newcampaign")
    assert said("console.bad_button", value="4", count=1) in await console.type("/press 4")
    assert said("console.bad_button", value="x", count=1) in await console.type("/press x")


async def test_moderation_refusals_keep_the_campaign_as_it_was(console: Console) -> None:
    ref = await console.new_campaign()
    assert said("reject.reason_required") in await console.type(f"/reject {ref}")
    assert said("promote.not_live", ref=ref, status=said("status.pending_review")) in (
        await console.type(f"/promote {ref}")
    )
    printed = await console.type("/as alice", f"/support {ref}")
    pending = said("status.pending_review")
    assert said("pledge.not_open", title="Save the park", status=pending) in printed
    assert (await console.core.campaigns.get(ref)).status is CampaignStatus.PENDING_REVIEW

    printed = await console.type("/press 2")  # Reject on the moderation card
    assert said("console.reject_how", ref=ref) in printed
    printed = await console.type(f"/reject {ref} Not about a campaign we can run")
    assert "Not about a campaign we can run" in printed
    assert (await console.core.campaigns.get(ref)).status is CampaignStatus.REJECTED


async def test_only_the_organiser_promotes(console: Console) -> None:
    ref = await console.new_campaign()
    await console.type("/as mod", f"/approve {ref}")
    assert said("promote.not_allowed") in await console.type(f"/promote {ref}")
    printed = await console.type("/as you", f"/promote {ref}")
    assert "#group" in printed


async def test_pledge_refusals_lose_nothing(console: Console) -> None:
    ref = await console.live_campaign()
    printed = await console.type("/as alice", f"/support {ref} my words without the tag")
    assert said("message.missing_hashtags", tags="#savethepark") in printed
    assert await console.core.pledges.of_supporter(console.session.user) == []

    await console.type(f"/support {ref}")
    assert said("pledge.already", title="Save the park") in await console.type(f"/support {ref}")
    assert f" · {said('pledge_status.pledged')} · " in await console.type("/mypledges")

    assert said("unpledge.done", count=1, ref=ref) in await console.type(f"/unpledge {ref}")
    assert said("unpledge.none", ref=ref) in await console.type(f"/unpledge {ref}")
    assert f" · {said('pledge_status.withdrawn')} · " in await console.type("/mypledges")

    await console.type(f"/support {ref}")  # pledging again after withdrawing works
    rows = await console.core.pledges.of_supporter(console.session.user)
    assert [pledge.status for pledge, _, _ in rows] == [PledgeStatus.PLEDGED]

    printed = await console.type("/forget")
    assert "Erased: 1 linked account and 1 pledge." in printed
    assert "alice" in console.sandbox.revoked
    assert await console.core.pledges.of_supporter(console.session.user) == []


async def test_the_organiser_cancels_and_supporters_are_told(console: Console) -> None:
    ref = await console.live_campaign()
    await console.type("/as alice", f"/support {ref}")
    assert said("campaign.not_yours", ref=ref) in await console.type(f"/cancel {ref}")
    printed = await console.type("/as you", f"/cancel {ref}")
    assert said("campaign.cancelled", ref=ref, title="Save the park") in printed
    assert said("supporter.campaign_cancelled", title="Save the park") in printed
    await console.type("/launch")
    assert console.sandbox.all_posts == []
