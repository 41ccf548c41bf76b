"""The console's /status lists the top recruiters: named after the recruiter pressed the
button on their pledge confirmation, anonymous again once they withdraw."""

from __future__ import annotations

from bot.domain.refs import UserRef
from tests.integration.console.conftest import Console
from tests.integration.console.test_session import said


async def test_status_names_a_recruiter_who_pressed_the_button(console: Console) -> None:
    ref = await console.live_campaign()
    campaign = await console.core.campaigns.get(ref)
    printed = await console.type("/as alice", f"/support {ref}")
    assert "[1] " + said("recruiter.button_named") in printed
    # a refreshed group card takes "1" back, so press the confirmation's button by its action
    start = len(console.out.getvalue())
    await console.session.run_action(f"rname:{ref}")
    printed = console.out.getvalue()[start:]
    assert said("recruiter.now_named", title=campaign.title, name="alice") in printed

    code = console.core.pledges.recruits.code(ref, UserRef("console", "alice"))
    await console.type("/as bob", f"/support {ref}_{code}")
    printed = await console.type(f"/status {ref}")
    assert said("recruiter.line_named", rank=1, name="alice", brought=1) in printed
    assert f"/c/{ref}" in printed

    await console.type("/as alice", f"/unpledge {ref}")
    printed = await console.type(f"/status {ref}")
    assert said("recruiter.line_named", rank=1, name="alice", brought=1) not in printed
    assert said("recruiter.line_anonymous", rank=1, brought=1) in printed
