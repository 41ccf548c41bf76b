"""Recruit links through the services: A brings B, B brings C, each person counted once.

The code travels the way a supporter's does: ``/start REF_CODE`` (or the page's ``?via=``)
into ``PledgeService.support``, the signed pledge link it answers with, then ``record``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from adapters.networks.mastodon import MASTODON
from bot.app import Chorus
from bot.crypto import derive_key
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.pledge import Pledge
from bot.domain.refs import UserRef
from bot.registry import NetworkRegistry
from bot.services.public_pages import PublicCampaign, PublicPages
from bot.services.recruits import RecruitCodes, split_start_payload
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.unit.services.conftest import profile, supporter

T0 = datetime(2030, 1, 1, tzinfo=UTC)
Make = Callable[..., Awaitable[Campaign]]
A, B, C, D = (supporter(n) for n in (1, 2, 3, 4))


async def joins(
    core: Chorus, campaign: Campaign, who: UserRef, payload: str, account: int | None = None
) -> Pledge:
    """Open the bot with ``payload``, press the pledge button, link an account."""
    _, message = await core.pledges.support(payload, who)
    [[button]] = message.buttons
    assert button.url is not None
    ticket = core.links.read(button.url.rsplit("/pledge/", 1)[1])
    return await core.pledges.record(ticket, profile(account or int(who.id)))


def code(core: Chorus, campaign: Campaign, who: UserRef) -> str:
    return core.pledges.recruits.code(campaign.ref, who)


async def figures(core: Chorus, campaign: Campaign) -> list[tuple[str, int]]:
    return [(r.key, r.recruited) for r in await core.repo.recruiters(campaign.id or 0)]


async def test_a_recruit_chain_counts_who_brought_whom(core: Chorus, live: Make) -> None:
    campaign = await live()
    await joins(core, campaign, A, campaign.ref)
    b = await joins(core, campaign, B, f"{campaign.ref}_{code(core, campaign, A)}")
    assert b.recruited_by == A.key
    c = await joins(core, campaign, C, f"{campaign.ref}_{code(core, campaign, B)}")
    assert c.recruited_by == B.key
    assert await figures(core, campaign) == [(A.key, 1), (B.key, 1)]  # A brought someone first
    await joins(core, campaign, D, f"{campaign.ref}_{code(core, campaign, B).lower()}")
    assert await figures(core, campaign) == [(B.key, 2), (A.key, 1)]
    assert (await core.repo.campaign_stats(campaign.id or 0)).supporters == 4


async def test_a_person_counts_once_and_the_first_attribution_wins(
    core: Chorus, live: Make
) -> None:
    campaign = await live()
    await joins(core, campaign, A, campaign.ref)
    await joins(core, campaign, C, campaign.ref)
    await joins(core, campaign, B, f"{campaign.ref}_{code(core, campaign, A)}")
    second = await joins(core, campaign, B, f"{campaign.ref}_{code(core, campaign, C)}", 22)
    assert second.recruited_by == A.key
    assert await figures(core, campaign) == [(A.key, 1)]


async def test_someone_who_pledged_before_is_nobodys_recruit(core: Chorus, live: Make) -> None:
    campaign = await live()
    await joins(core, campaign, A, campaign.ref)
    await joins(core, campaign, B, campaign.ref)
    again = await joins(core, campaign, B, f"{campaign.ref}_{code(core, campaign, A)}", 22)
    assert again.recruited_by is None
    assert await figures(core, campaign) == []


async def test_self_recruiting_and_unknown_codes_are_ignored(core: Chorus, live: Make) -> None:
    campaign = await live()
    other = await live()
    await joins(core, campaign, A, campaign.ref)
    await joins(core, other, B, other.ref)
    ignored = [
        code(core, campaign, C),  # C never pledged
        code(core, other, B),  # B's code for another campaign
        "AAAAAAAA",  # forged
        "A" * 60,  # malformed
    ]
    for n, bad in enumerate(ignored, start=10):
        joined = await joins(core, campaign, supporter(n), f"{campaign.ref}_{bad}")
        assert joined.recruited_by is None
    itself = await joins(core, campaign, A, f"{campaign.ref}_{code(core, campaign, A)}", 22)
    assert itself.recruited_by is None
    assert await figures(core, campaign) == []


async def test_the_confirmation_offers_the_supporters_own_recruit_link(
    core: Chorus, live: Make, front: RecordingFrontEnd
) -> None:
    campaign = await live()
    await joins(core, campaign, A, campaign.ref)
    [told] = front.to(f"user:{A.id}")
    assert told.keys[-1] == "supporter.recruit_link"
    assert f"/c/{campaign.ref}?via={code(core, campaign, A)}" in told.text


def test_a_start_payload_fits_telegram_and_splits_back(core: Chorus) -> None:
    payload = core.pledges.recruits.start_payload("K7QX2M12345678AB", A)
    assert len(payload) <= 64
    assert split_start_payload(payload) == ("K7QX2M12345678AB", payload[-8:])
    assert split_start_payload("K7QX2M") == ("K7QX2M", None)


async def test_the_public_page_carries_the_code_and_shows_the_top_three_anonymously(
    core: Chorus, live: Make, clock: FakeClock
) -> None:
    campaign = await live()
    pages = PublicPages(
        core.repo,
        clock,
        NetworkRegistry(),
        "https://x.example",
        "ChorusBot",
        core.pledges.recruits,
    )
    recruiters = [supporter(n) for n in (1, 2, 3, 4)]
    for n, who in enumerate(recruiters):
        await joins(core, campaign, who, campaign.ref)
        for m in range(n + 1):  # supporter 1 brings one person, supporter 4 brings four
            brought = supporter(100 + 10 * n + m)
            await joins(core, campaign, brought, f"{campaign.ref}_{code(core, campaign, who)}")
    shown = await pages.show(campaign.ref, code(core, campaign, A).lower())
    assert isinstance(shown, PublicCampaign)
    assert tuple(r.recruited for r in shown.recruiters) == (4, 3, 2)
    assert shown.telegram_url == (
        f"https://t.me/ChorusBot?start={campaign.ref}_{code(core, campaign, A)}"
    )
    for forged in ("AAAAAAAA", code(core, campaign, supporter(99)), "<script>"):
        plain = await pages.show(campaign.ref, forged)
        assert isinstance(plain, PublicCampaign)
        assert plain.telegram_url == f"https://t.me/ChorusBot?start={campaign.ref}"


async def test_a_recorded_pledge_is_found_by_its_code_through_the_index(
    core: Chorus, live: Make
) -> None:
    """The code is stored with the pledge, so the lookup is one indexed query."""
    campaign = await live()
    await joins(core, campaign, A, campaign.ref)
    found = await core.repo.supporter_by_recruit_code(campaign.id or 0, code(core, campaign, A))
    assert found is not None and found.same_person(A)
    assert await core.repo.supporter_by_recruit_code(campaign.id or 0, "AAAAAAAA") is None


async def test_a_pledge_stored_without_a_code_still_recruits_and_gets_its_code(
    core: Chorus, live: Make
) -> None:
    """Pledges stored before codes were (or by a writer that sets none) are coded on the
    first lookup that misses, then found by the index like the others."""
    campaign = await live()
    assert campaign.id is not None
    linked = await core.repo.save_account(
        SocialAccount(
            owner=A,
            network=MASTODON,
            instance="mastodon.example",
            remote_id="old-1",
            handle="old1",
            followers=1,
            tokens=TokenSet(access_token="test-token-not-real-old"),
            linked_at=T0,
        )
    )
    assert linked.id is not None
    await core.repo.add_pledge(
        Pledge(campaign.id, A, linked.id, MASTODON, created_at=T0)  # no code, as before
    )
    assert await core.repo.supporter_by_recruit_code(campaign.id, code(core, campaign, A)) is None
    found = await core.pledges.recruits.recruiter(campaign, code(core, campaign, A))
    assert found is not None and found.same_person(A)
    stored = await core.repo.supporter_by_recruit_code(campaign.id, code(core, campaign, A))
    assert stored is not None and stored.same_person(A)


async def test_an_erased_supporters_code_names_nobody(core: Chorus, live: Make) -> None:
    """``/forget`` deletes the pledge rows, and the codes with them; a withdrawal keeps the
    row (as the scan did, a withdrawn supporter still recruits)."""
    campaign = await live()
    await joins(core, campaign, A, campaign.ref)
    await joins(core, campaign, B, campaign.ref)
    await core.pledges.unpledge(campaign.ref, B)
    withdrawn = await core.pledges.recruits.recruiter(campaign, code(core, campaign, B))
    assert withdrawn is not None and withdrawn.same_person(B)
    await core.pledges.forget(A)
    assert await core.pledges.recruits.recruiter(campaign, code(core, campaign, A)) is None
    assert (
        await core.repo.supporter_by_recruit_code(campaign.id or 0, code(core, campaign, A))
        is None
    )


def test_a_code_is_the_first_eight_base32_characters_of_the_keyed_hmac() -> None:
    """Codes are in links already shared and stored with pledges: they never change."""
    secret = "test-secret-not-real-0123456789abcdef"
    codes = RecruitCodes(secret, repo=None)  # type: ignore[arg-type]
    key = derive_key(secret, "recruit-codes")
    for ref, who in [("AB12CD", UserRef("telegram", "42")), ("ZZ9", UserRef("web", "é-1"))]:
        digest = hmac.new(key, f"{ref}\n{who.key}".encode(), hashlib.sha256).digest()
        assert codes.code(ref, who) == base64.b32encode(digest).decode("ascii")[:8]
