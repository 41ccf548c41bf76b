"""A network the core has never heard of: registering its adapter is all it takes.

``example`` is declared here, as an adapter module would declare it, and registered in
one line; the dialog, the message rules, the blast's crash recovery and the account
display follow its spec with no edit of the core.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from bot.app import Chorus, build_chorus
from bot.dialog import ACTION_PREFIX, CampaignDraft, DialogRules, NewCampaignDialog, Step
from bot.domain.campaign import CampaignStatus
from bot.domain.errors import InvalidInput
from bot.domain.networks import DeliveryMode, LengthRule, Network, NetworkSpec, Recovery
from bot.domain.pledge import PledgeStatus
from bot.ports import Repository
from bot.registry import NetworkRegistry
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.fakes.networks import registry_of
from tests.unit.blast.harness import ORGANISER, SECRET, LiveNetwork, World, build_world_core
from tests.unit.blast.harness import settings as blast_settings
from tests.unit.blast.test_recovery import _crash_mid_blast

EXAMPLE = Network("example")
EXAMPLE_SPEC = NetworkSpec(
    id=EXAMPLE,
    order=0,  # before every other network
    length=LengthRule(limit=40, url_weight=None),  # a URL counts as written
    default_mode=DeliveryMode.AUTO,
    modes=frozenset({DeliveryMode.AUTO}),
    recovery=Recovery.RESEND,  # the example network dedupes on the idempotency key
    account_format="{handle} on {instance}",
)
MESSAGE = "Save the bees #bees"


async def example_world(repo: Repository, clock: FakeClock) -> World:
    """The blast harness's world with the example network as its only network."""
    chat = RecordingFrontEnd()
    example = LiveNetwork(EXAMPLE, clock, repo, dedupe=True)
    registry = NetworkRegistry()
    registry.register(EXAMPLE_SPEC, example)  # the one line an adapter needs
    core = build_world_core(blast_settings(), repo, clock, registry, chat)
    scheduler = core.scheduler
    await scheduler.start()
    # the harness names its first network slot "mastodon"; here it holds the example network
    return World(core, clock, chat, example, LiveNetwork(MASTODON, clock, repo), scheduler)


def with_mastodon(repo: Repository, clock: FakeClock) -> Chorus:
    registry = registry_of(blast_settings(), {MASTODON: LiveNetwork(MASTODON, clock, repo)})
    registry.register(EXAMPLE_SPEC, LiveNetwork(EXAMPLE, clock, repo))
    return build_chorus(blast_settings(), repo, clock, secret=SECRET, registry=registry)


async def test_the_dialog_offers_a_registered_network_in_its_order(
    repo: Repository, clock: FakeClock
) -> None:
    core = with_mastodon(repo, clock)
    rules = DialogRules(clock.now(), core.dialogs.tz, core.dialogs.min_lead, core.dialogs.offered)
    assert rules.networks == (EXAMPLE, MASTODON)
    dialog = NewCampaignDialog(rules)
    state = dialog.start().state
    assert state is not None
    asking = dialog.handle_text(state, "Save the bees")
    assert asking.message.parts[-1].params["limit"] == 40  # the narrowest offered
    state = asking.state
    for text in (MESSAGE, "100", "2030-01-20 18:00"):
        assert state is not None
        state = dialog.handle_text(state, text).state
        if state is not None and state.step is Step.VARIANTS:  # none: Skip
            state = dialog.handle_action(state, ACTION_PREFIX + "variants_done").state
    assert state is not None and state.step is Step.NETWORKS
    reply = dialog.handle_action(state, ACTION_PREFIX + "net:example")
    assert reply.errors == () and reply.state is not None
    assert reply.state.networks == (EXAMPLE,)


async def test_message_rules_apply_its_length_rule(repo: Repository, clock: FakeClock) -> None:
    core = with_mastodon(repo, clock)
    url = "https://bees.example/act"  # 24 characters: it would weigh 23 on X or Mastodon
    fits = "a" * 16 + url
    longer = "a" * 17 + url
    draft = CampaignDraft("Bees", longer, 0, clock.now() + timedelta(days=2), ())
    with pytest.raises(InvalidInput) as refused:
        await core.campaigns.submit(replace(draft, networks=(EXAMPLE,)), ORGANISER)
    assert (refused.value.key, refused.value.text.params["limit"]) == ("message.too_long", 40)
    assert refused.value.text.params["network"] == "example"
    submitted = await core.campaigns.submit(
        replace(draft, message=fits, networks=(EXAMPLE, MASTODON)), ORGANISER
    )
    assert submitted.status is CampaignStatus.PENDING_REVIEW


async def test_the_blast_recovers_it_as_its_spec_says(repo: Repository, clock: FakeClock) -> None:
    world = await example_world(repo, clock)
    campaign = await world.campaign(networks=(EXAMPLE,))
    pairs = [await world.supporter(campaign, network=EXAMPLE) for _ in range(2)]
    (landed, landed_account), _ = pairs  # the first request landed, the second never left
    await _crash_mid_blast(world, campaign, [pledge.id or 0 for pledge, _ in pairs])
    await world.mastodon.post(landed_account, campaign.message, f"chorus-{landed.id}")
    await world.restart()
    for pledge, account in pairs:
        assert len(world.mastodon.posts_of(account.id or 0)) == 1
        assert (await world.pledge(pledge)).status is PledgeStatus.POSTED
    # RESEND: sent again with the same key (the network deduplicated it), not looked up
    assert [a for a, _ in world.mastodon.attempts].count(landed_account.id) == 2
    assert world.core.registry.delivery_mode(EXAMPLE) is DeliveryMode.AUTO
    shown = [row[2] for row in await world.core.pledges.of_supporter(landed.supporter)]
    assert shown == [f"{landed_account.handle} on {landed_account.instance}"]
