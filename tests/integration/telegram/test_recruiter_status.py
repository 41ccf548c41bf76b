"""Named recruiters and ``/status`` through the Telegram wire fake.

A brings B, B brings C and D. B presses "Show my name" on their pledge confirmation, A does
not: ``/status`` (asked by anyone, in a group) lists B by name first and A as "Supporter #2".
The confirmation also carries share buttons with B's own code; withdrawing erases consent.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from bot.app import Chorus
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import ApiCall, FakeTelegramApi
from tests.integration.telegram import conftest as tg_kit
from tests.integration.telegram.conftest import JSON, Driver, callbacks, private, urls

A, B, C, D = tg_kit.STRANGER, tg_kit.SUPPORTER, tg_kit.FRENCH, tg_kit.GROUP_ADMIN


async def _chain(tg: Driver, core: Chorus, clock: FakeClock, api: FakeTelegramApi) -> tuple:
    campaign = await tg_kit.live_campaign(core, clock)

    def code(person: JSON) -> str:
        return core.pledges.recruits.code(campaign.ref, tg_kit.ref_of(person))

    async def joins(person: JSON, payload: str, remote_id: str) -> ApiCall:
        intro = await tg.say(person, private(person), f"/start {payload}")
        ticket = core.links.read(tg_kit.pledge_token(intro))
        since = api.mark()
        await core.pledges.record(ticket, tg_kit.sandbox_profile(remote_id, f"h{remote_id}"))
        return await api.wait_for(
            "sendMessage",
            lambda c: c.chat_id == person["id"] and f"rname:{campaign.ref}" in callbacks(c),
            since=since,
        )

    await joins(A, campaign.ref, "a1")
    confirmation = await joins(B, f"{campaign.ref}_{code(A)}", "b1")
    await joins(C, f"{campaign.ref}_{code(B)}", "c1")
    await joins(D, f"{campaign.ref}_{code(B)}", "d1")
    return campaign, code, confirmation


async def test_the_confirmation_offers_consent_and_share_links_with_the_own_code(
    tg: Driver, core: Chorus, clock: FakeClock, api: FakeTelegramApi
) -> None:
    campaign, code, confirmation = await _chain(tg, core, clock, api)
    assert callbacks(confirmation) == [f"rname:{campaign.ref}"]
    assert confirmation.buttons[0]["text"] == render(t("recruiter.button_named"), "en")
    own = f"/c/{campaign.ref}?via={code(B)}"
    shares = urls(confirmation)
    assert shares and all(u.startswith("https://") for u in shares)
    for url in shares:  # every share page carries B's own link
        assert own in unquote(url), url
    assert any(urlsplit(u).netloc == "t.me" for u in shares)

    named = await tg.press_and_see_edit(B, api.message(confirmation), f"rname:{campaign.ref}")
    assert (
        render(t("recruiter.now_named", title=campaign.title, name="Sacha Supporter"), "en")
        in named.text
    )
    assert named.buttons[0]["text"] == render(t("recruiter.button_anonymous"), "en")
    assert own in named.text
    assert await core.repo.recruiter_names(campaign.id or 0) == {
        tg_kit.ref_of(B).key: "Sacha Supporter"
    }

    again = await tg.press_and_see_edit(B, api.message(named), f"rname:{campaign.ref}")
    assert render(t("recruiter.now_anonymous", title=campaign.title), "en") in again.text
    assert await core.repo.recruiter_names(campaign.id or 0) == {}


async def test_status_names_only_who_consented_in_rank_order(
    tg: Driver, core: Chorus, clock: FakeClock, api: FakeTelegramApi
) -> None:
    campaign, _, confirmation = await _chain(tg, core, clock, api)
    await tg.press_and_see_edit(B, api.message(confirmation), f"rname:{campaign.ref}")

    answer = await tg.say(D, tg_kit.GROUP, f"/status {campaign.ref.lower()}")  # anyone, anywhere
    lines = [line for line in answer.text.splitlines() if line]
    first = render(t("recruiter.line_named", rank=1, name="Sacha Supporter", brought=2), "en")
    second = render(t("recruiter.line_anonymous", rank=2, brought=1), "en")
    assert first == "1. Sacha Supporter: 2 people brought"
    assert lines.index(first) + 1 == lines.index(second)
    assert "Sam" not in answer.text  # A did not consent
    assert campaign.title in answer.text
    assert f"/c/{campaign.ref}" in answer.text
    assert "4 / 4 supporters" in answer.text

    # withdrawing erases the consent: B is anonymous again
    await tg.say(B, private(B), f"/unpledge {campaign.ref}")
    assert await core.repo.recruiter_names(campaign.id or 0) == {}


async def test_status_of_an_unknown_or_hidden_campaign_and_without_a_ref(
    tg: Driver, core: Chorus, clock: FakeClock
) -> None:
    unknown = await tg.say(A, private(A), "/status ZZZZZZ")
    assert unknown.text == render(t("status_command.unknown", ref="ZZZZZZ"), "en")
    waiting = await tg_kit.waiting_campaign(core, clock)
    hidden = await tg.say(A, private(A), f"/status {waiting.ref}")
    assert hidden.text == render(t("status_command.unknown", ref=waiting.ref), "en")
    hostile = await tg.say(A, private(A), "/status <b>" + "X" * 200)
    assert "<b>" not in hostile.text and "X" * 17 not in hostile.text
    usage = await tg.say(A, private(A), "/status")
    assert usage.text == render(t("status_command.usage"), "en")


async def test_consent_needs_a_standing_pledge(
    tg: Driver, core: Chorus, clock: FakeClock, api: FakeTelegramApi
) -> None:
    campaign, _, confirmation = await _chain(tg, core, clock, api)
    await tg.say(B, private(B), f"/unpledge {campaign.ref}")
    refused = await tg.press(B, api.message(confirmation), f"rname:{campaign.ref}")
    assert refused.text == render(t("recruiter.no_pledge", ref=campaign.ref), "en")
    assert await core.repo.recruiter_names(campaign.id or 0) == {}


async def test_the_command_menu_lists_status(tg: Driver, api: FakeTelegramApi) -> None:
    calls = [c for c in api.calls if c.method == "setMyCommands"]
    assert calls
    for call in calls:
        assert "status" in [command["command"] for command in call.params["commands"]]
