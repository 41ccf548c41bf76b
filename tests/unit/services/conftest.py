"""A core built by ``bot.app.build_chorus`` over a real in-memory SQLite repository.

The chat side is ``RecordingFrontEnd``; the social side is ``RecordingNetwork``, a tiny
``SocialNetwork`` that records what the core asked of it (these tests never post).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import Chorus, build_chorus
from bot.dialog import CampaignDraft
from bot.domain.account import LinkedProfile, SocialAccount, TokenSet
from bot.domain.campaign import Campaign
from bot.domain.networks import Network
from bot.domain.outcomes import OutcomeKind, PostOutcome, RemotePost
from bot.domain.pledge import Pledge
from bot.domain.refs import ChatRef, UserRef
from bot.ports import AccountLinker, Repository, SocialNetwork
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.fakes.networks import registry_of

SECRET = "test-secret-not-real-0123456789abcdef"
ORGANISER = UserRef("test", "100", "Olga", "en")
MODERATOR = UserRef("test", "900", "Mo", "en")
STRANGER = UserRef("test", "666", "Eve", "en")
GROUP = ChatRef("test", "group-1")
MESSAGE = "Save the bees #SaveBees https://bees.example/act"


@dataclass
class RecordingNetwork:
    """A SocialNetwork that records revocations; ``fail_revoke`` makes revoke raise."""

    network: Network
    fail_revoke: bool = False
    revoked: list[str] = field(default_factory=list)

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        return PostOutcome(OutcomeKind.REJECTED, reason="posting is not part of these tests")

    def compose_url(self, account: SocialAccount, text: str) -> str:
        return f"https://{account.instance}/share"

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        return []

    async def refresh(self, account: SocialAccount) -> TokenSet:
        return account.tokens

    async def revoke(self, account: SocialAccount) -> None:
        self.revoked.append(account.tokens.access_token)
        if self.fail_revoke:
            raise ConnectionError("network down")


@pytest.fixture
def front() -> RecordingFrontEnd:
    return RecordingFrontEnd()


@pytest.fixture
def mastodon() -> RecordingNetwork:
    return RecordingNetwork(MASTODON)


@pytest.fixture
def x_network() -> RecordingNetwork:
    return RecordingNetwork(X)


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, min_lead_minutes=60, default_timezone="UTC")  # type: ignore[call-arg]


@pytest.fixture
def make_core(
    settings: Settings,
    repo: Repository,
    clock: FakeClock,
    front: RecordingFrontEnd,
    mastodon: RecordingNetwork,
    x_network: RecordingNetwork,
) -> Callable[..., Chorus]:
    def make(
        card_delay_seconds: float = 0,
        networks: Mapping[Network, SocialNetwork] | None = None,
        revokers: Mapping[Network, SocialNetwork] | None = None,
        linkers: Mapping[Network, AccountLinker] | None = None,
        **kwargs: object,
    ) -> Chorus:
        options: dict[str, object] = {"front_ends": [front]}
        options.update(kwargs)
        offered = {MASTODON: mastodon, X: x_network} if networks is None else networks
        return build_chorus(
            settings,
            repo,
            clock,
            secret=SECRET,
            registry=registry_of(settings, offered, revokers=revokers, linkers=linkers),
            card_delay_seconds=card_delay_seconds,
            **options,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def core(make_core: Callable[..., Chorus]) -> Chorus:
    return make_core()


def draft(
    clock: FakeClock,
    *,
    goal: int = 4,
    networks: tuple[Network, ...] = (MASTODON, X),
    message: str = MESSAGE,
    title: str = "Save the bees",
    lead: timedelta = timedelta(days=2),
) -> CampaignDraft:
    return CampaignDraft(title, message, goal, clock.now() + lead, networks)


@pytest.fixture
def submitted(core: Chorus, clock: FakeClock) -> Callable[..., Awaitable[Campaign]]:
    async def make(**kwargs: object) -> Campaign:
        return await core.campaigns.submit(draft(clock, **kwargs), ORGANISER, GROUP)  # type: ignore[arg-type]

    return make


@pytest.fixture
def live(
    core: Chorus, submitted: Callable[..., Awaitable[Campaign]]
) -> Callable[..., Awaitable[Campaign]]:
    async def make(**kwargs: object) -> Campaign:
        campaign = await submitted(**kwargs)
        assert campaign.id is not None
        return await core.moderation.approve(campaign.id, MODERATOR, may_moderate=True)

    return make


def edits(front: RecordingFrontEnd) -> list[str]:
    """Where the core edited a message, in order."""
    return [s.where for s in front.sent if s.where.startswith("edit:")]


def supporter(number: int, language: str = "en") -> UserRef:
    return UserRef("test", str(number), f"Supporter {number}", language)


def profile(number: int, network: Network = MASTODON, followers: int = 10) -> LinkedProfile:
    instance = "mastodon.example" if network == MASTODON else "x.com"
    return LinkedProfile(
        network=network,
        instance=instance,
        remote_id=f"remote-{number}",
        handle=f"handle{number}",
        followers=followers,
        tokens=TokenSet(access_token=f"test-token-not-real-{number}"),
    )


async def pledge(
    core: Chorus,
    campaign: Campaign,
    who: UserRef,
    account: LinkedProfile | None = None,
    message: str | None = None,
) -> Pledge:
    """Press Support, follow the link, authorise: what the pledge web page does."""
    ticket = core.links.read(core.links.issue(campaign.ref, who))
    return await core.pledges.record(ticket, account or profile(int(who.id)), message)
