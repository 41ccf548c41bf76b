"""The pledge flow's rules, reached without HTTP: the form, the start and the finish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x_spec import X
from bot.app import Chorus
from bot.domain.account import LinkedProfile, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.networks import DeliveryMode, Network
from bot.services.pledge_flow import Authorize, Field, FormRefused, PledgeForm, Refused, Thanks
from tests.unit.services.conftest import MESSAGE, supporter

Make = Callable[..., Awaitable[Campaign]]


@dataclass
class ScriptedLinker:
    """An ``AccountLinker`` that authorises at once as ``handle``."""

    network: Network
    handle: str = "bee"
    started: list[str | None] = field(default_factory=list)

    async def authorization_url(
        self, *, state: str, redirect_uri: str, instance: str | None
    ) -> tuple[str, dict[str, Any]]:
        self.started.append(instance)
        return f"https://auth.example/{self.network}?state={state}", {"instance": instance}

    async def complete(
        self, *, code: str, redirect_uri: str, data: dict[str, Any]
    ) -> LinkedProfile:
        instance = str(data["instance"] or "x.com")
        return LinkedProfile(
            network=self.network,
            instance=instance,
            remote_id=f"remote-{self.handle}",
            handle=self.handle,
            followers=3,
            tokens=TokenSet(access_token=f"test-token-not-real-{self.handle}"),
        )


@pytest.fixture
def mastodon_linker() -> ScriptedLinker:
    return ScriptedLinker(MASTODON)


@pytest.fixture
def core(make_core: Callable[..., Chorus], mastodon_linker: ScriptedLinker) -> Chorus:
    return make_core(linkers={X: ScriptedLinker(X), MASTODON: mastodon_linker})


async def token_for(core: Chorus, live: Make) -> str:
    campaign = await live()
    return core.links.issue(campaign.ref, supporter(1))


async def start(core: Chorus, token: str, network: str = "mastodon", **typed: Any) -> Any:
    values: dict[str, Any] = {"message": "", "instance": "mastodon.example", "tz": "UTC"}
    values.update(typed)
    return await core.pledge_flow.start(token, network, form_ok=True, **values)


async def test_the_form_offers_the_linkable_networks_in_the_registry_order(
    core: Chorus, live: Make
) -> None:
    form = await core.pledge_flow.form(await token_for(core, live))

    assert isinstance(form, PledgeForm)
    assert tuple(spec.id for spec in form.networks) == (X, MASTODON)
    assert form.stats.supporters == 0


async def test_a_bad_link_is_refused_without_a_way_back(core: Chorus) -> None:
    refused = await core.pledge_flow.form("not-a-link")

    assert isinstance(refused, Refused)
    assert (refused.error.key, refused.token) == ("link.invalid", None)


async def test_a_form_that_failed_the_browser_checks_is_refused(core: Chorus, live: Make) -> None:
    token = await token_for(core, live)

    refused = await core.pledge_flow.start(
        token, "mastodon", message="", instance="m.example", tz="UTC", form_ok=False
    )

    assert isinstance(refused, Refused)
    assert (refused.error.key, refused.token) == ("web.error.form_expired", token)


async def test_a_network_not_offered_is_refused(core: Chorus, live: Make) -> None:
    refused = await start(core, await token_for(core, live), "sandbox")

    assert isinstance(refused, Refused)
    assert refused.error.key == "web.error.network_unavailable"


async def test_a_message_without_the_hashtag_comes_back_on_its_field(
    core: Chorus, live: Make
) -> None:
    refused = await start(core, await token_for(core, live), message="Save the bees")

    assert isinstance(refused, FormRefused)
    assert (refused.field, refused.error.key) == (Field.MESSAGE, "message.missing_hashtags")


async def test_mastodon_needs_an_instance(
    core: Chorus, live: Make, mastodon_linker: ScriptedLinker
) -> None:
    refused = await start(core, await token_for(core, live), instance="  ")

    assert isinstance(refused, FormRefused)
    assert (refused.field, refused.error.key) == (Field.INSTANCE, "web.mastodon.instance_missing")
    assert mastodon_linker.started == []


async def test_start_then_finish_records_the_pledge(core: Chorus, live: Make) -> None:
    token = await token_for(core, live)
    mine = MESSAGE + " 🐝"
    started = await start(core, token, message=mine, tz="Europe/Paris")
    assert isinstance(started, Authorize)

    thanks = await core.pledge_flow.finish(
        "mastodon", started.state, browser_ok=True, code="code", denied=False
    )

    assert isinstance(thanks, Thanks)
    assert thanks.account == "@bee@mastodon.example"
    assert (thanks.mode, thanks.message, thanks.tz) == (DeliveryMode.AUTO, mine, "Europe/Paris")
    again = await core.pledge_flow.finish(
        "mastodon", started.state, browser_ok=True, code="code", denied=False
    )
    assert isinstance(again, Refused) and again.error.key == "web.error.state_unknown"


async def test_another_browser_does_not_spend_the_state(core: Chorus, live: Make) -> None:
    started = await start(core, await token_for(core, live))
    assert isinstance(started, Authorize)

    other = await core.pledge_flow.finish(
        "mastodon", started.state, browser_ok=False, code="code", denied=False
    )

    assert isinstance(other, Refused)
    assert (other.error.key, other.state_spent) == ("web.error.session_mismatch", False)
    mine = await core.pledge_flow.finish(
        "mastodon", started.state, browser_ok=True, code="code", denied=False
    )
    assert isinstance(mine, Thanks)


async def test_a_denied_authorisation_spends_the_state_and_leads_back(
    core: Chorus, live: Make
) -> None:
    token = await token_for(core, live)
    started = await start(core, token)
    assert isinstance(started, Authorize)

    refused = await core.pledge_flow.finish(
        "mastodon", started.state, browser_ok=True, code="", denied=True
    )

    assert isinstance(refused, Refused)
    assert (refused.error.key, refused.token, refused.state_spent) == (
        "web.error.denied",
        token,
        True,
    )
    assert await core.repo.pledges_of_supporter(supporter(1)) == []
