"""A running pledge site for tests: real web app, real adapters, loopback networks.

Builds the core with the SQLite repository, the X and Mastodon adapters pointed at
their fakes, serves ``create_web_app`` on 127.0.0.1, and offers builders for live
campaigns and pledge links. Used by the web integration tests and the browser tests.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from aiohttp import web

from adapters.networks.mastodon import MASTODON, MastodonNetwork
from adapters.networks.x import X, XNetwork
from bot.app import Chorus, build_chorus
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus, LaunchDecision, new_ref
from bot.domain.networks import DeliveryMode, Network
from bot.domain.pledge import Pledge, PledgeStatus, change_status
from bot.domain.refs import ChatRef, UserRef
from bot.ports import Repository
from bot.registry import NetworkRegistry
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.networks import registry_of
from tests.fakes.x_api import FakeX

TEST_SECRET = "test-secret-not-real-0123456789abcdef"
SUPPORTER = UserRef("test", "501", "Sam", "en")
ORGANISER = UserRef("test", "1", "Olga", "en")
NONCE_RE = re.compile(r'name="nonce" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nonce_of(html: str) -> str:
    match = NONCE_RE.search(html)
    assert match, "the pledge page has no form nonce"
    return match.group(1)


@dataclass
class PledgeSite:
    """Everything a web test touches."""

    core: Chorus
    repo: Repository
    clock: FakeClock
    x: FakeX
    mastodon: FakeMastodon
    front: RecordingFrontEnd
    url: str
    runner: web.AppRunner
    adapters: list[Any] = field(default_factory=list)

    async def campaign(
        self,
        *,
        title: str = "Save the river",
        message: str = "Save our river! #SaveTheRiver https://example.org/river",
        goal: int = 10,
        status: CampaignStatus = CampaignStatus.LIVE,
        networks: tuple[Network, ...] = (MASTODON, X),
        story: str | None = None,
        picture: bytes | None = None,
    ) -> Campaign:
        """A campaign; ``picture`` goes through the picture service as a sent one does."""
        now = self.clock.now()
        key = await self.core.chat.dialogs.pictures.accept(picture) if picture else None
        return await self.repo.add_campaign(
            Campaign(
                ref=new_ref(),
                title=title,
                message=message,
                goal=goal,
                launch_at=now + timedelta(days=2),
                networks=networks,
                organiser=ORGANISER,
                created_at=now,
                status=status,
                origin_chat=ChatRef("test", "-100"),
                story=story,
                picture=key,
            )
        )

    async def pledge(
        self,
        campaign: Campaign,
        person: UserRef,
        *,
        network: Network = X,
        followers: int = 12,
        message: str | None = None,
        mode: DeliveryMode | None = None,
    ) -> tuple[Pledge, SocialAccount]:
        """``person`` links an account on ``network`` (``fan<id>``) and pledges it."""
        assert campaign.id is not None
        account = await self.repo.save_account(
            SocialAccount(
                owner=person,
                network=network,
                instance="x.com" if network == X else network,
                remote_id=f"7{person.id}",
                handle=f"fan{person.id}",
                followers=followers,
                tokens=TokenSet(access_token=f"test-token-not-real-{person.id}"),
                linked_at=self.clock.now(),
            )
        )
        assert account.id is not None
        pledge = await self.repo.add_pledge(
            Pledge(
                campaign_id=campaign.id,
                supporter=person,
                account_id=account.id,
                network=network,
                created_at=self.clock.now(),
                message=message,
                delivery_mode=mode,
            )
        )
        return pledge, account

    async def launched(self, campaign: Campaign, posts: int) -> Campaign:
        """``campaign`` went out: ``posts`` supporters (``Fan <n>``, an X account of 100×n
        followers each) posted, and the clock is at its launch moment."""
        campaign = await self.repo.update_campaign(
            replace(
                campaign,
                status=CampaignStatus.LAUNCHED,
                launch_decision=LaunchDecision.MET,
                launch_supporters=posts,
            )
        )
        for n in range(1, posts + 1):
            person = UserRef("test", f"60{n}", f"Fan {n}", "en")
            pledge, _ = await self.pledge(campaign, person, followers=100 * n)
            posted = change_status(pledge, PledgeStatus.POSTED, at=self.clock.now())
            url = f"https://x.com/fan{person.id}/status/1{n}"
            await self.repo.update_pledge(
                replace(posted, remote_post_id=f"1{n}", remote_post_url=url)
            )
        self.clock.advance(campaign.launch_at - self.clock.now())
        return campaign

    def link(self, campaign: Campaign, supporter: UserRef = SUPPORTER) -> str:
        """The pledge page address, on this test server."""
        return self.core.pledges.pledge_url(campaign, supporter)

    async def close(self) -> None:
        await self.runner.cleanup()
        for adapter in self.adapters:
            await adapter.aclose()
        await self.x.close()
        await self.mastodon.close()


# Registers more networks on the site's registry: given it, the settings and the clock,
# it returns the adapters to close with the site.
MoreNetworks = Callable[[NetworkRegistry, Settings, FakeClock], list[Any]]


async def start_site(
    repo: Repository, *, more: MoreNetworks | None = None, **overrides: Any
) -> PledgeSite:
    clock = FakeClock()
    fake_x = FakeX(now=clock.now)
    fake_mastodon = FakeMastodon(now=clock.now)
    await fake_x.start()
    await fake_mastodon.start()
    port = free_port()
    values: dict[str, Any] = {
        "public_url": f"http://127.0.0.1:{port}",
        "x_client_id": "test-client-id",
        "x_api_url": fake_x.url,
        "x_authorize_url": f"{fake_x.url}/i/oauth2/authorize",
        "mastodon_allow_private_hosts": True,
        "default_timezone": "Europe/Paris",
        "blast_concurrency": 4,
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    x_network = XNetwork(settings, repo, clock=clock)
    mastodon_network = MastodonNetwork(settings, repo, clock=clock)
    networks = {X: x_network, MASTODON: mastodon_network}
    front = RecordingFrontEnd()
    registry = registry_of(settings, networks, linkers=networks)
    extra = more(registry, settings, clock) if more is not None else []
    core = build_chorus(
        settings,
        repo,
        clock,
        secret=TEST_SECRET,
        registry=registry,
        front_ends=[front],
        card_delay_seconds=0,
    )
    runner = web.AppRunner(core.web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return PledgeSite(
        core=core,
        repo=repo,
        clock=clock,
        x=fake_x,
        mastodon=fake_mastodon,
        front=front,
        url=settings.public_url,
        runner=runner,
        adapters=[x_network, mastodon_network, *extra],
    )
