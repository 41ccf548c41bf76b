"""A world for scheduler and blast tests: a core over real in-memory SQLite, a fake clock,
a recording chat front end, in-memory social networks, and a ``LaunchScheduler``.

Tests move the clock and call ``go``, which runs ``sync`` and waits until idle, exactly
as the console does; no test sleeps until a launch moment. ``FlakyRepository`` wraps the
real repository to make chosen calls fail the way a database does (locked, gone away).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from adapters.networks.mastodon import MASTODON
from adapters.networks.x import X
from bot.app import Chorus, build_chorus
from bot.blast import BlastTuning, RetryPolicy
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CardKind, PostedCard
from bot.domain.networks import DeliveryMode, Network
from bot.domain.outcomes import OutcomeKind, PostOutcome
from bot.domain.pledge import Pledge
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.ports import BlastQueue, ChatFrontEnd, Repository
from bot.registry import NetworkRegistry
from bot.scheduler import LaunchScheduler
from bot.settings import Settings
from bot.testing.clock import FakeClock
from tests.fakes.chat import RecordingFrontEnd
from tests.fakes.networks import FakeNetwork, registry_of

SECRET = "test-secret-not-real-0123456789abcdef"
ORGANISER = UserRef("test", "100", "Olga", "en")
GROUP = ChatRef("test", "group-en")
GROUPE = ChatRef("test", "groupe-fr")
MESSAGE = "Save the bees #SaveBees https://bees.example/act"
FAST_RETRY = RetryPolicy(base_seconds=0.01, cap_seconds=0.05)
FAST_TUNING = BlastTuning(retry=FAST_RETRY, launch_retry=FAST_RETRY)


@dataclass
class LiveNetwork(FakeNetwork):
    """The in-memory network, which also refuses tokens its accounts no longer hold."""

    dead_tokens: set[str] = field(default_factory=set)
    tokens_used: list[tuple[int, str]] = field(default_factory=list)

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        assert account.id is not None
        self.tokens_used.append((account.id, account.tokens.access_token))
        if account.tokens.access_token in self.dead_tokens:
            self.attempts.append((account.id, OutcomeKind.REVOKED.value))
            return PostOutcome(OutcomeKind.REVOKED, reason="The access token was revoked")
        return await super().post(account, text, idempotency_key)


class DatabaseDown(Exception):
    """What a driver raises when the database cannot answer (locked, connection lost)."""


class FlakyRepository:
    """The real repository, except that calls chosen with ``fail`` raise ``DatabaseDown``."""

    def __init__(self, inner: Repository) -> None:
        self._inner = inner
        self._failures: dict[str, list[Callable[..., bool]]] = {}
        self.failed: list[str] = []

    def fail(self, method: str, when: Callable[..., bool] = lambda *a, **k: True) -> None:
        """The next call of ``method`` whose arguments satisfy ``when`` raises, once."""
        self._failures.setdefault(method, []).append(when)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name not in self._failures:
            return target

        async def maybe_fail(*args: Any, **kwargs: Any) -> Any:
            pending = self._failures.get(name, [])
            for index, when in enumerate(pending):
                if when(*args, **kwargs):
                    del pending[index]
                    self.failed.append(name)
                    raise DatabaseDown(f"{name}: database is locked")
            return await target(*args, **kwargs)

        return maybe_fail


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "min_lead_minutes": 0,
        "blast_concurrency": 4,
        "blast_retry_window_seconds": 5,
        "launch_grace_minutes": 30,
        "prepare_minutes_before": 5,
        "tap_reminder_minutes": 30,
        "tap_readback_minutes": 120,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class World:
    core: Chorus
    clock: FakeClock
    chat: RecordingFrontEnd
    mastodon: LiveNetwork
    x: LiveNetwork
    scheduler: LaunchScheduler
    tuning: BlastTuning = FAST_TUNING
    other_front_ends: tuple[ChatFrontEnd, ...] = ()  # real outbound sides, besides ``chat``
    blast_queue: BlastQueue | None = None  # shared: the launch hands its posts to workers
    _people: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def repo(self) -> Repository:
        return self.core.repo

    async def campaign(
        self,
        *,
        goal: int = 0,
        launch_in: timedelta = timedelta(days=2),
        networks: tuple[Network, ...] = (MASTODON,),
        message: str = MESSAGE,
        promote: bool = True,
        organiser: UserRef = ORGANISER,
    ) -> Campaign:
        """A LIVE campaign, promoted in an English and a French group, armed."""
        now = self.clock.now()
        campaign = await self.repo.add_campaign(
            Campaign(
                ref="BEES" + str(next(self._people)).zfill(2),
                title="Save the bees",
                message=message,
                goal=goal,
                launch_at=now + launch_in,
                networks=networks,
                organiser=organiser,
                created_at=now,
                status=CampaignStatus.LIVE,
            )
        )
        assert campaign.id is not None
        if promote:
            for chat, language in ((GROUP, "en"), (GROUPE, "fr")):
                await self.repo.add_card(
                    PostedCard(
                        campaign.id, CardKind.PROMOTION, MessageRef(chat, "1"), now, language
                    )
                )
        await self.scheduler.campaign_changed(campaign)
        return campaign

    async def supporter(
        self,
        campaign: Campaign,
        *,
        network: Network = MASTODON,
        followers: int = 10,
        expires_at: datetime | None = None,
        mode: DeliveryMode | None = None,
        message: str | None = None,
        language: str = "en",
        person: UserRef | None = None,
    ) -> tuple[Pledge, SocialAccount]:
        """A new supporter with a linked account who pledged to ``campaign``."""
        assert campaign.id is not None
        n = next(self._people)
        person = person or UserRef("test", str(1000 + n), f"Supporter {n}", language)
        account = await self.repo.save_account(
            SocialAccount(
                owner=person,
                network=network,
                instance="bees.social" if network == MASTODON else "x.com",
                remote_id=str(50_000 + n),
                handle=f"fan{n}",
                followers=followers,
                tokens=TokenSet(
                    access_token=f"test-token-not-real-{n}",
                    refresh_token="refresh-test-token-not-real",
                    expires_at=expires_at,
                ),
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
                delivery_mode=mode or self.core.registry.delivery_mode(network),
            )
        )
        return pledge, account

    async def go(self, moment: datetime) -> None:
        """Move the clock to ``moment`` and run whatever fell due, to the end."""
        self.clock.set(moment)
        await self.scheduler.sync()
        await self.scheduler.wait_idle()

    async def restart(self) -> LaunchScheduler:
        """Chorus built afresh on the same database, as after a process restart."""
        await self.scheduler.stop()
        self.core = build_world_core(
            self.core.settings,
            self.repo,
            self.clock,
            self.core.registry,
            self.chat,
            self.tuning,
            self.other_front_ends,
            self.blast_queue,
        )
        self.scheduler = self.core.scheduler
        await self.scheduler.start()
        await self.scheduler.wait_idle()
        return self.scheduler

    async def reload(self, campaign: Campaign) -> Campaign:
        assert campaign.id is not None
        fresh = await self.repo.get_campaign(campaign.id)
        assert fresh is not None
        return fresh

    async def pledge(self, pledge: Pledge) -> Pledge:
        assert pledge.id is not None
        fresh = await self.repo.get_pledge(pledge.id)
        assert fresh is not None
        return fresh

    def texts_to(self, where: str) -> str:
        return "\n\n".join(s.text for s in self.chat.to(where))


def build_world_core(
    world_settings: Settings,
    repo: Repository | FlakyRepository,
    clock: FakeClock,
    registry: NetworkRegistry,
    chat: RecordingFrontEnd,
    tuning: BlastTuning = FAST_TUNING,
    others: tuple[ChatFrontEnd, ...] = (),
    blast_queue: BlastQueue | None = None,
) -> Chorus:
    """Chorus as the blast tests run it: the recording chat (and ``others``), cards
    updated at once."""
    return build_chorus(
        world_settings,
        repo,  # type: ignore[arg-type]
        clock,
        secret=SECRET,
        registry=registry,
        front_ends=[chat, *others],
        card_delay_seconds=0,
        tuning=tuning,
        blast_queue=blast_queue,
    )


async def make_world(
    repo: Repository | FlakyRepository,
    clock: FakeClock,
    *,
    latency: float = 0.0,
    tuning: dict[str, Any] | None = None,
    front_ends: Sequence[ChatFrontEnd] = (),
    blast_queue: BlastQueue | None = None,
    chat: RecordingFrontEnd | None = None,
    **overrides: Any,
) -> World:
    """``front_ends``: real chat front ends (outbound sides) besides the recording one;
    ``chat``: the recording one (a subclass that holds or fails chosen sends)."""
    chat = RecordingFrontEnd() if chat is None else chat
    mastodon = LiveNetwork(MASTODON, clock, repo, latency=latency, dedupe=True)
    x = LiveNetwork(X, clock, repo, latency=latency)
    blast_tuning = replace(FAST_TUNING, **(tuning or {}))
    world_settings = settings(**overrides)
    core = build_world_core(
        world_settings,
        repo,
        clock,
        registry_of(world_settings, {MASTODON: mastodon, X: x}),
        chat,
        blast_tuning,
        tuple(front_ends),
        blast_queue,
    )
    scheduler = core.scheduler
    await scheduler.start()
    return World(
        core, clock, chat, mastodon, x, scheduler, blast_tuning, tuple(front_ends), blast_queue
    )
