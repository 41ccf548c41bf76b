"""The ports of the core: every Protocol an adapter or storage back end implements.

The core depends on these and nothing concrete; ``bot.app`` wires real adapters in,
tests wire fakes in through the same builder.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

from bot.domain.account import LinkedProfile, PendingRevocation, SocialAccount, TokenSet
from bot.domain.batches import BlastBatch
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.cards import CampaignStats, CardKind, PostedCard
from bot.domain.channels import KnownChannel
from bot.domain.events import EventKind
from bot.domain.moderation import PendingReason
from bot.domain.networks import Network
from bot.domain.operations import PledgeCounts, SchemaStatus
from bot.domain.outcomes import PostOutcome, RemotePost
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import DeliveryHead, DeliveryState, Pledge
from bot.domain.recruits import Recruiter
from bot.domain.refs import ChatRef, MessageRef, UserRef
from bot.domain.trend import TagSample
from bot.domain.updates import CampaignUpdate


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...


class AdmissionReads(NamedTuple):
    """What admitting a pledge reads: the campaign (None if there is none), the account as
    stored (None if new), that account's pledge to the campaign, the supporter's own
    pledges to it (by id) and its supporters."""

    campaign: Campaign | None
    account: SocialAccount | None
    earlier: Pledge | None
    mine: list[Pledge]
    supporters: int


@runtime_checkable
class Repository(Protocol):
    """Everything the core stores. Each method is one transaction."""

    async def migrate(self) -> int: ...
    async def close(self) -> None: ...
    async def schema_status(self) -> SchemaStatus:
        """The highest applied migration and the highest this code knows (read only)."""
        ...

    async def pledge_counts(self) -> PledgeCounts:
        """Pledges by status, and those still to post in launching campaigns."""
        ...

    # campaigns
    async def add_campaign(self, campaign: Campaign) -> Campaign: ...
    async def get_campaign(self, campaign_id: int) -> Campaign | None: ...
    async def find_campaign(self, ref: str) -> Campaign | None: ...
    async def update_campaign(self, campaign: Campaign) -> Campaign:
        """Save if the stored version equals ``campaign.version``; else ``StaleUpdate``."""
        ...

    async def decide_launch(
        self, campaign_id: int, at: datetime, late_minutes: int | None = None
    ) -> Campaign | None:
        """Take the launch's goal decision, once, in one transaction with the row locked.

        If the stored campaign awaits a decision (LIVE, or LAUNCHING without one), count
        its supporters (people, from the pledges not withdrawn), apply
        ``bot.domain.campaign.decide_launch`` at ``at``, set ``late_minutes`` (unless None) and
        save it with the version check; return what is stored. A campaign already decided,
        or in any other status, is returned as stored, unchanged; None if there is none.
        Every path that delivers goes through this, so the decision is never taken twice.
        """
        ...

    async def campaigns_of(self, organiser: UserRef) -> list[Campaign]: ...
    async def campaigns_in(self, statuses: Collection[CampaignStatus]) -> list[Campaign]: ...

    # cards the bot posted
    async def add_card(self, card: PostedCard) -> PostedCard: ...
    async def cards_of(
        self, campaign_id: int, kind: CardKind | None = None
    ) -> list[PostedCard]: ...
    async def replace_chat_card(self, card: PostedCard) -> tuple[PostedCard, list[PostedCard]]:
        """Store ``card`` as the only card of its kind for its campaign in its chat, in one
        transaction; return it stored and the cards it replaced (their messages are the
        caller's to delete)."""
        ...

    async def remove_card(self, card_id: int) -> None: ...

    # broadcast channels where the bot may post
    async def save_channel(self, channel: KnownChannel) -> None:
        """Remember the channel (a new title or username replaces the stored one)."""
        ...

    async def channels_on(self, platform: str) -> list[KnownChannel]: ...
    async def forget_channel(self, chat: ChatRef) -> int:
        """Forget the channel and every card posted in it, in one transaction; return how
        many cards went (their messages are no longer the bot's to edit)."""
        ...

    # social accounts (tokens encrypted by the back end)
    async def save_account(self, account: SocialAccount) -> SocialAccount:
        """Insert, or update the row with the same network, instance and remote id; the
        follower count is stored through ``follower_count`` (bounded, never negative).

        An account never changes owner: if that row belongs to another person (platform and
        id), nothing is written and ``LinkedByOther`` (``account.linked_by_other``) is raised.
        """
        ...

    async def save_accounts(self, accounts: Sequence[SocialAccount]) -> list[SocialAccount]:
        """``save_account`` for many in one transaction; the saved ones, in the same order.
        One account owned by someone else refuses the whole batch (nothing is written)."""
        ...

    async def find_account(
        self, network: Network, instance: str, remote_id: str
    ) -> SocialAccount | None:
        """The stored account with this network, instance and remote id, whoever owns it."""
        ...

    async def get_account(self, account_id: int) -> SocialAccount | None: ...
    async def get_accounts(self, account_ids: Collection[int]) -> dict[int, SocialAccount]: ...
    async def account_stamps(self, account_ids: Collection[int]) -> dict[int, str]:
        """A short opaque marker per existing account that changes whenever its tokens or
        revoked flag change: tells which loaded accounts went stale, without decrypting."""
        ...

    async def accounts_of(self, owner: UserRef) -> list[SocialAccount]: ...
    async def update_tokens(self, account_id: int, tokens: TokenSet) -> None: ...
    async def mark_account_revoked(self, account_id: int) -> None: ...
    async def erase_supporter(self, owner: UserRef) -> int:
        """Delete every pledge, account and update mute of ``owner``; return how many
        accounts went."""
        ...

    # token lifetime: tokens nothing needs any more wait here until revoked
    async def release_tokens(
        self, account_ids: Collection[int], at: datetime, *, unless_in_use: bool = True
    ) -> list[int]:
        """In one transaction, erase the tokens of these accounts (blank strings; the
        ``revoked`` flag stays: it says what the network answered) and queue them for
        revocation; return the queued revocations' ids. Accounts already erased are
        skipped, and with ``unless_in_use`` so are those still needed: with a PLEDGED
        pledge in a campaign live, launching, or launched and not yet reported."""
        ...

    async def queue_revocation(
        self, network: Network, instance: str, tokens: TokenSet, at: datetime
    ) -> int:
        """Queue tokens that were never stored (a refused pledge); return the id."""
        ...

    async def pending_revocations(
        self, revocation_ids: Collection[int]
    ) -> list[PendingRevocation]: ...
    async def due_revocations(self, before: datetime, limit: int) -> list[PendingRevocation]:
        """Up to ``limit`` queued revocations never tried, or last tried at ``before`` or
        earlier, oldest first."""
        ...

    async def revocations_done(self, revocation_ids: Collection[int]) -> None:
        """The network confirmed: forget these queued tokens for good."""
        ...

    async def revocations_failed(
        self, revocation_ids: Collection[int], at: datetime, error: str
    ) -> None:
        """Count a failed attempt for each (kept for a later retry)."""
        ...

    # pledges
    async def add_pledge(self, pledge: Pledge) -> Pledge:
        """Insert; ``DomainError('pledge.already')`` if the account already pledged."""
        ...

    async def add_pledges(self, pledges: Sequence[Pledge]) -> list[Pledge]:
        """Insert many in one transaction, skipping any whose account already pledged to
        that campaign; return the inserted ones, in order."""
        ...

    async def get_pledge(self, pledge_id: int) -> Pledge | None: ...
    async def find_pledge(self, campaign_id: int, account_id: int) -> Pledge | None: ...
    async def get_pledges(self, pledge_ids: Collection[int]) -> list[Pledge]:
        """The stored pledges among ``pledge_ids``, by id (erased ones are absent)."""
        ...

    async def update_pledge(self, pledge: Pledge) -> Pledge:
        """Save if the stored version equals ``pledge.version``; else ``StaleUpdate``."""
        ...

    async def pledges_of_campaign(
        self, campaign_id: int, statuses: Collection[Any] | None = None
    ) -> list[Pledge]: ...
    async def delivery_heads(self, campaign_id: int) -> list[DeliveryHead]:
        """The campaign's PLEDGED pledges as the launch sorts them, in id order."""
        ...

    async def pledges_of_supporter(self, supporter: UserRef) -> list[Pledge]: ...
    async def campaign_stats(self, campaign_id: int) -> CampaignStats:
        """Figures derived from the pledge rows now: supporters are people (one chat
        identity, however many accounts it pledged); accounts, reach and the rest count
        each pledged account once."""
        ...

    async def supporter_count(self, campaign_id: int) -> int:
        """``campaign_stats(campaign_id).supporters`` alone, in one statement."""
        ...

    async def named_and_supporters(self, campaign_id: int, supporter_key: str) -> tuple[bool, int]:
        """Whether the supporter lets their name show as a recruiter of the campaign, and
        its supporters, read together (one trip where the back end can)."""
        ...

    async def admission_reads(
        self,
        ref: str,
        network: Network,
        instance: str,
        remote_id: str,
        supporter: UserRef,
    ) -> AdmissionReads:
        """Everything admitting ``supporter``'s pledge of that account to the campaign
        ``ref`` reads, together (one trip to the database where the back end can)."""
        ...

    async def supporter_by_recruit_code(self, campaign_id: int, code: str) -> UserRef | None:
        """The supporter of the earliest pledge to the campaign stored with recruit code
        ``code`` (``Pledge.recruit_code``, exact match), any status; None if none is."""
        ...

    async def pledges_without_recruit_code(
        self, campaign_id: int, limit: int
    ) -> list[tuple[int, UserRef]]:
        """Up to ``limit`` pledges of the campaign with no recruit code yet: (id, supporter),
        by id."""
        ...

    async def set_recruit_codes(self, codes: Mapping[int, str]) -> None:
        """Pledge id -> recruit code, for pledges that have none (others are left as they
        are); one transaction, no version bump (a code is derived, never edited)."""
        ...

    async def post_links(self, campaign_id: int, limit: int) -> list[str]:
        """The links to the first ``limit`` posts of the campaign (posted pledges with a
        link, oldest pledge first): a page shows a few without reading every pledge."""
        ...

    async def recruiters(self, campaign_id: int) -> list[Recruiter]:
        """Who brought people to the campaign, most people first, then who brought someone
        first; each recruited person (chat identity) counts once, withdrawn pledges not."""
        ...

    async def shown_figures(
        self, campaign_id: int, posts: int
    ) -> tuple[CampaignStats, list[Recruiter], dict[str, str], list[str]]:
        """What a page shows, read in one transaction: ``campaign_stats``, ``recruiters``,
        ``recruiter_names`` and ``post_links`` (``posts`` of them, none with 0)."""
        ...

    async def name_recruiter(self, campaign_id: int, supporter_key: str, name: str) -> None:
        """The supporter agrees to be shown as ``name`` among the campaign's recruiters."""
        ...

    async def unname_recruiter(self, campaign_id: int, supporter_key: str) -> bool:
        """Back to anonymous; whether they were named."""
        ...

    async def recruiter_names(self, campaign_id: int) -> dict[str, str]:
        """Supporter key -> the name each consenting recruiter chose, for one campaign."""
        ...

    async def variant_counts(
        self, campaign_id: int, statuses: Collection[Any] | None = None
    ) -> dict[int, int]:
        """Pledges per wording index (``Pledge.variant``; one without counts as 0), among
        those in ``statuses`` (all if None); pledges with the supporter's own words are
        not counted."""
        ...

    async def set_delivery(
        self,
        pledge_ids: Sequence[int],
        state: DeliveryState,
        *,
        expected: DeliveryState | None = None,
    ) -> list[int]:
        """Move pledges to ``state`` (only those in ``expected`` if given); return moved ids."""
        ...

    async def record_deliveries(self, pledges: Sequence[Pledge]) -> None:
        """Store the blast's results for many pledges in one transaction (no version check)."""
        ...

    # once-only events (milestones, reminders, reports, tap links opened)
    async def claim_event(
        self, campaign_id: int, kind: EventKind, at: datetime, subject: int | None = None
    ) -> bool:
        """True the first time ``kind`` (with ``subject``) is claimed for this campaign,
        False after."""
        ...

    async def event_claimed(
        self, campaign_id: int, kind: EventKind, subject: int | None = None
    ) -> bool:
        """Whether ``kind`` (with ``subject``) was claimed for this campaign already."""
        ...

    async def count_events(self, campaign_id: int, kind: EventKind) -> int:
        """How many events of ``kind`` were claimed for this campaign, whatever the subject."""
        ...

    async def event_subjects(self, campaign_id: int, kind: EventKind) -> set[int]:
        """The subjects of every event of ``kind`` claimed for this campaign."""
        ...

    # single-use link nonces
    async def consume_nonce(self, nonce: str, expires_at: datetime) -> bool:
        """True the first time ``nonce`` is consumed, False if it was used before."""
        ...

    async def nonce_used(self, nonce: str) -> bool:
        """Whether ``nonce`` was consumed already (without consuming it)."""
        ...

    async def nonce_and_campaign(self, nonce: str, ref: str) -> tuple[bool, Campaign | None]:
        """``nonce_used(nonce)`` and ``find_campaign(ref)``, read together (one trip to the
        database where the back end can)."""
        ...

    # dialogs in progress, so a restart does not lose a half-typed campaign
    async def save_dialog(self, user_key: str, state: dict[str, Any]) -> None: ...
    async def load_dialog(self, user_key: str) -> dict[str, Any] | None: ...
    async def delete_dialog(self, user_key: str) -> None: ...

    # rejections waiting for the moderator's reason, one per moderator
    async def save_pending_reason(self, pending: PendingReason) -> None:
        """Store ``pending``, replacing any the same moderator had."""
        ...

    async def pending_reason(self, moderator_key: str, now: datetime) -> PendingReason | None:
        """The moderator's pending rejection unless it expired by ``now``."""
        ...

    async def drop_pending_reason(self, moderator_key: str) -> None: ...

    # OAuth round trips in flight
    async def save_oauth_state(
        self, state: str, data: dict[str, Any], expires_at: datetime
    ) -> None: ...
    async def take_oauth_state(self, state: str, now: datetime) -> dict[str, Any] | None:
        """Return and delete the data for ``state`` if it exists and has not expired."""
        ...

    # clean-up
    async def purge_expired(self, now: datetime) -> int:
        """Delete OAuth states, used-nonce rows and pending reject reasons that expired by
        ``now`` (a used nonce's link is refused as expired by then); return how many rows
        went."""
        ...

    # Mastodon app registrations, one per instance
    async def get_mastodon_app(self, instance: str) -> tuple[str, str] | None: ...
    async def save_mastodon_app(
        self, instance: str, client_id: str, client_secret: str, *, registered_at: datetime
    ) -> None:
        """Store (or replace) an instance's registration, made at ``registered_at``."""
        ...

    async def count_mastodon_registrations(self, since: datetime) -> int:
        """How many instances were registered at or after ``since`` (the hourly cap)."""
        ...

    # organiser updates to supporters, and who muted them
    async def add_update(
        self, update: CampaignUpdate, *, since: datetime, limit: int
    ) -> CampaignUpdate | None:
        """Store ``update`` (sent now) unless its campaign already has ``limit`` updates
        sent after ``since``; one transaction with the campaign row locked. The stored
        update (with its id), or None when the limit is reached."""
        ...

    async def update_times(self, campaign_id: int, since: datetime) -> list[datetime]:
        """When the campaign's updates sent after ``since`` went, oldest first."""
        ...

    async def finish_update(self, update: CampaignUpdate) -> None:
        """Store how the delivery of a stored update went (its counts)."""
        ...

    async def updates_of(self, campaign_id: int) -> list[CampaignUpdate]:
        """The campaign's updates, oldest first (the audit)."""
        ...

    async def set_update_mute(
        self, campaign_id: int, person: UserRef, *, muted: bool, at: datetime
    ) -> None:
        """Mute (or unmute) the campaign's updates for ``person``; idempotent.
        ``erase_supporter`` drops every mute of the person erased."""
        ...

    async def muted_people(self, campaign_id: int) -> set[str]:
        """The keys (``UserRef.key``) of the people who muted the campaign's updates."""
        ...


class PictureStore(Protocol):
    """Where campaign pictures are kept, by their key (``bot.pictures.Picture.key``)."""

    async def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key``; keeping the same key again changes nothing."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The bytes kept under ``key``; None for a key never kept or not well formed."""
        ...


class BlastQueue(Protocol):
    """The batches of launched blasts, claimed under a lease by every live process.

    ``shared``: True when other workers claim batches (PostgreSQL's processes, or the
    blast thread on an SQLite file); then the launch splits its auto pledges into batches
    and waits for them, else it posts them itself.
    """

    shared: bool

    async def split(self, campaign_id: int, pledge_ids: Sequence[int], size: int) -> int:
        """Store batches of those of ``pledge_ids`` in no batch of the campaign yet and
        wake the workers; return how many batches were made. It commits in parts, the
        first small (posting starts while the rest are written); each part excludes what
        any batch holds by then, so two launches of one campaign never batch a pledge
        twice."""
        ...

    async def claim(self, owner: str, lease_seconds: float) -> BlastBatch | None:
        """Take a ready batch, or one whose lease ran out; None if there is none."""
        ...

    async def renew(self, batch_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease; False if the batch was taken over meanwhile."""
        ...

    async def finish(self, batch_id: int, owner: str) -> bool:
        """Mark ``owner``'s batch done; False if the batch was taken over meanwhile."""
        ...

    async def release(self, batch_id: int, owner: str) -> bool:
        """Give ``owner``'s unfinished batch back (a graceful stop): claimable at once,
        and reconciled like a batch whose lease ran out."""
        ...

    async def unfinished(self, campaign_id: int) -> int:
        """How many batches of the campaign are not done yet."""
        ...

    async def wait(self, seconds: float) -> None:
        """Return when work may have arrived (a notification) or after ``seconds``."""
        ...

    async def close(self) -> None: ...


class MessageGone(Exception):
    """Raised by ``ChatFrontEnd.edit`` when the message can never be edited again (deleted,
    or too old for the platform): the caller forgets it instead of retrying."""


class Unreachable(Exception):
    """Raised by ``ChatFrontEnd.send_to_user`` when the platform says the person cannot be
    written to privately at all (they blocked the bot, closed their direct messages): no
    retry helps until they open their private chat again."""


class ChatFrontEnd(Protocol):
    """A chat platform the core can talk through (Telegram, Discord, console)."""

    platform: str

    async def send(self, chat: ChatRef, message: OutgoingMessage, language: str) -> MessageRef:
        """Post ``message`` in ``chat``; raise if the platform refuses."""
        ...

    async def edit(self, ref: MessageRef, message: OutgoingMessage, language: str) -> None:
        """Replace the message's content; ``MessageGone`` if it cannot be edited any more."""
        ...

    async def delete(self, ref: MessageRef) -> None:
        """Remove a message the bot posted; a message already gone counts as removed;
        raise if the platform refuses (the caller logs and moves on)."""
        ...

    async def send_to_user(self, user: UserRef, message: OutgoingMessage) -> MessageRef:
        """Send a private message in the user's own language; ``Unreachable`` when the
        person cannot be written to privately (blocked the bot, closed DMs)."""
        ...

    async def send_to_moderators(self, message: OutgoingMessage) -> list[MessageRef]:
        """Post where this front end's moderators decide: its moderation chat, or (with
        MODERATION_IN_PRIVATE and no such chat) each moderator's private chat. The posted
        messages (the caller stores them as cards); empty if none is configured or reached."""
        ...

    async def message_link(self, ref: MessageRef) -> str | None:
        """A web link that opens the posted message ``ref`` for the chat's members, or None
        when the platform has none (or the chat is private); may raise (the caller logs)."""
        ...


class NetworkFailure(Exception):
    """A read or token call to a network failed; ``outcome`` says how."""

    def __init__(self, outcome: PostOutcome) -> None:
        super().__init__(outcome.kind.value)
        self.outcome = outcome


class SocialNetwork(Protocol):
    """What the blast needs from one social network."""

    network: Network

    async def post(self, account: SocialAccount, text: str, idempotency_key: str) -> PostOutcome:
        """Post ``text`` as ``account``; expected failures come back typed, not raised."""
        ...

    def compose_url(self, account: SocialAccount, text: str) -> str:
        """A one-tap link to the network's compose screen with ``text`` filled in."""
        ...

    async def recent_posts(self, account: SocialAccount, since: datetime) -> list[RemotePost]:
        """The account's own posts since ``since``; ``NetworkFailure`` on error."""
        ...

    async def refresh(self, account: SocialAccount) -> TokenSet:
        """New tokens for ``account``; ``NetworkFailure`` (revoked, down) on error.

        The adapter owns refreshed tokens: it stores them (``Repository.update_tokens``)
        before returning them whenever ``account.id`` is set, as it does when ``post`` or
        ``recent_posts`` refresh on their own. The caller uses the returned tokens in memory
        and never stores them (X rotates refresh tokens: the code that received them writes
        them, once, at once). Tokens returned unchanged need no write.
        """
        ...

    async def revoke(self, account: SocialAccount) -> None:
        """Revoke ``account.tokens`` at the network; only the tokens are revoked, the row
        is left alone. Only the tokens are sure to be set: a queued revocation or tokens
        fetched for a refused pledge come with no id (and maybe a blank owner and handle).
        Return once the network confirmed; ``NetworkFailure`` when it did not (the caller,
        ``bot.services.revocations``, keeps them queued and retries)."""
        ...


class TagCounter(Protocol):
    """A network that can read public posts carrying a hashtag (optional capability).

    Read-only and anonymous: it uses no supporter's token and stores nothing.
    """

    async def tagged_posts(
        self, instance: str, hashtag: str, since: datetime, until: datetime
    ) -> TagSample | None:
        """The public posts with ``#hashtag`` created in ``[since, until)`` as ``instance``
        shows them (a bounded number of pages); None when it would not answer."""
        ...


class AccountLinker(Protocol):
    """The OAuth dance that links a supporter's account (used by the pledge web app)."""

    network: Network

    async def authorization_url(
        self, *, state: str, redirect_uri: str, instance: str | None
    ) -> tuple[str, dict[str, Any]]:
        """The URL to send the supporter to, and data to keep server-side until callback."""
        ...

    async def complete(
        self, *, code: str, redirect_uri: str, data: dict[str, Any]
    ) -> LinkedProfile:
        """Trade ``code`` for tokens and read whose account they open; store nothing.

        The tokens returned are the caller's: ``PledgeService.record`` stores them if the
        pledge is recorded and revokes them otherwise. If ``complete`` fails after the
        network gave tokens (the profile cannot be read), it revokes them before raising.
        """
        ...


@runtime_checkable
class PublishesDocuments(Protocol):
    """An ``AccountLinker`` that publishes documents on the pledge site (optional): an
    OAuth client's metadata and public keys, served at ``/oauth/<network>/<name>.json``."""

    def documents(self) -> dict[str, dict[str, Any]]:
        """The documents by name; never a secret."""
        ...


class CampaignWatcher(Protocol):
    """Told whenever a campaign changes status (the scheduler arms or drops its events)."""

    async def campaign_changed(self, campaign: Campaign) -> None: ...


class Leadership(Protocol):
    """Which one of the processes sharing a database leads: arms the timers, runs the
    blast, reminders, reports and maintenance. A single-process store always leads.

    ``acquire`` tries once without waiting; ``held`` checks (one round trip) that the
    leadership is still this process's; ``release`` gives it up (or forgets it, when the
    link to the database is gone). ``announce`` tells the leader, wherever it runs, that a
    campaign changed here; ``listen`` registers what to call when such news arrives.
    """

    async def acquire(self) -> bool: ...
    async def held(self) -> bool: ...
    async def release(self) -> None: ...
    async def announce(self, campaign_id: int) -> None: ...
    def listen(self, on_change: Callable[[int], None]) -> None: ...
    async def close(self) -> None: ...
