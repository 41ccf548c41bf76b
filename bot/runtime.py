"""The process around the core: opens storage, starts every component, stops them in order.

``chorus run`` (the production process: chat front ends, pledge web server, scheduler in
one event loop) and ``chorus migrate`` live here; ``chorus console`` reuses the helpers.
Front ends and networks are imported only when their settings ask for them, so their SDKs
load only in processes that use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import secrets
import signal
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import urlsplit

from aiohttp import web

from bot import i18n
from bot.app import Chorus, build_chorus
from bot.blast import heap
from bot.blast.policy import BlastTuning
from bot.blast.thread import BlastThread
from bot.blast.worker import BlastWorker
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.leadership import Duty
from bot.ports import BlastQueue, ChatFrontEnd, Clock, Repository
from bot.registry import NetworkRegistry
from bot.role import Role, RoleState
from bot.services.chat_services import ChatServices
from bot.settings import Settings, SettingsError
from storage import DEFAULT_POOL_SIZE, open_leadership, open_repository, sqlite_path
from storage.blast_queue import SqliteBlastQueue, open_blast_queue
from storage.pictures import FilePictureStore

if TYPE_CHECKING:
    from adapters.console.clock import ShiftableClock
    from adapters.console.front_end import ConsoleFrontEnd
    from adapters.console.session import ConsoleSession
    from adapters.networks.sandbox import SandboxNetwork

log = logging.getLogger(__name__)

SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 16
# The interpreter's switch interval stays at 5 ms: 1 ms was tried with the blast on its
# thread, and replies got no faster while the blast of 10,000 took 17 s, not 6.
# The blast thread runs 10 nicer than the rest of the process: on a busy machine the OS
# then gives the CPU to the loop that answers people first. Four runs of
# benchmarks/replies.py each way (2 CPUs, load 6): command p50 during the blast 41-151 ms
# against 63-337 ms, p99 257-989 ms against 463-4,229 ms, and the blast no slower.
BLAST_THREAD_NICE = 10


class StartupError(Exception):
    """A component could not start; the message says which and why, in one line."""


class LaunchControl(Protocol):
    """What the runtime and the console need from ``bot.scheduler.LaunchScheduler``."""

    async def campaign_changed(self, campaign: Any) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def sync(self) -> None: ...
    async def wait_idle(self) -> None: ...


class Inbound(Protocol):
    """The inbound side of a chat front end: commands and buttons, polling or a gateway."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class ChatPlatform:
    """One chat platform's two sides over one platform client: the outbound side the
    notifier is built with, how to build the inbound side once the services exist, and
    what of it only the leading process runs (Telegram's intake, Discord's gateway)."""

    label: str
    outbound: ChatFrontEnd
    inbound: Callable[[ChatServices], Inbound]
    web_routes: tuple[web.AbstractRouteDef, ...] = ()  # served by the web app (a webhook)
    leader_duties: Mapping[str, Duty] = field(default_factory=dict)  # for the Succession


def redact_url(url: str) -> str:
    """A database URL fit for a log line: the scheme, host and path, never a password."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


async def open_storage(url: str, secret: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Repository:
    """Connect to the database at ``url`` (not yet migrated)."""
    try:
        repo: Repository = await open_repository(url, TokenCipher(secret), pool_size=pool_size)
    except ValueError as exc:  # the URL itself is wrong
        raise SettingsError(f"Setting DATABASE_URL: {exc}") from exc
    except Exception as exc:  # server down, refused login, unreadable file...
        raise StartupError(f"could not open the database at {redact_url(url)}: {exc}") from exc
    return repo


async def migrate(settings: Settings) -> int:
    """Apply the schema; return its version."""
    secret = settings.require_secret_key()
    repo = await open_storage(settings.resolved_database_url, secret)
    try:
        return await repo.migrate()
    finally:
        await repo.close()


def console_secret(settings: Settings) -> str:
    """SECRET_KEY, or the console's own one kept in ``DATA_DIR/secret_key`` (mode 0600)."""
    if settings.secret_key is not None:
        return settings.require_secret_key()
    path = Path(settings.data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"Setting SECRET_KEY: {path} is too short or empty; delete it to get a new one"
            ) from None
        return secret
    secret = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    log.info("generated a secret key in %s", path)
    return secret


def build_networks(settings: Settings, repo: Repository) -> NetworkRegistry:
    """Mastodon always, X when X_CLIENT_ID is set; each is both a network and a linker.
    The third network when Chorus can be its OAuth client (its spec module says when).
    X and it are known even when not set, for the accounts linked while they were."""
    registry = NetworkRegistry()
    from adapters.networks import bluesky_spec, mastodon, x_spec  # SDKs load only when needed

    registry.know(x_spec.X_SPEC)
    registry.know(bluesky_spec.BLUESKY_SPEC)
    adapter = _adapter(mastodon.MastodonNetwork, settings, repo)
    registry.register(
        mastodon.MASTODON_SPEC,
        adapter,
        linker=adapter,
        mode=mastodon.delivery_mode(settings),
        tag_counter=adapter,
    )
    if settings.x_enabled:
        from adapters.networks import x

        adapter = _adapter(x.XNetwork, settings, repo)
        registry.register(x.X_SPEC, adapter, linker=adapter, mode=x_spec.delivery_mode(settings))
    if bluesky_spec.bluesky_enabled(settings):
        from adapters.networks.bluesky_setup import build_bluesky

        try:
            network, linker = build_bluesky(settings, repo)
        except SettingsError:  # no usable client key: says which setting and how to fix it
            raise
        except Exception as exc:
            name = bluesky_spec.BLUESKY
            raise StartupError(f"the {name} network cannot be set up: {exc}") from exc
        spec = bluesky_spec.BLUESKY_SPEC
        registry.register(spec, network, linker=linker, mode=settings.bluesky_delivery)
    return registry


def _adapter(adapter_class: Any, settings: Settings, repo: Repository) -> Any:
    try:
        return adapter_class(settings, repo)
    except Exception as exc:
        name = adapter_class.network
        raise StartupError(f"the {name} network cannot be set up: {exc}") from exc


async def _close(thing: object) -> None:
    """Close an adapter that has ``aclose()`` or ``close()`` (sync ones off the loop)."""
    for name in ("aclose", "close"):
        method = getattr(thing, name, None)
        if not callable(method):
            continue
        if inspect.iscoroutinefunction(method):
            await method()
        else:
            await asyncio.to_thread(method)  # e.g. joining a thread pool
        return


# --- the blast worker --------------------------------------------------------------


def blast_channel(settings: Settings, url: str) -> str | None:
    """The SQLite file the blast thread shares with the main loop, if it has one: then
    the launch splits into batches there too. None on PostgreSQL (always shared), with
    an in-memory database (one connection only), or with no thread or no worker here."""
    if not (settings.blast_thread and settings.blast_worker):
        return None
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    return sqlite_path(url)


def open_process_blast_queue(settings: Settings, repo: Repository, url: str) -> BlastQueue:
    """The main loop's blast queue (the launch's), for ``build_chorus``."""
    return open_blast_queue(repo, channel=blast_channel(settings, url))


async def _open_blast_job(
    settings: Settings,
    url: str,
    secret: str,
    clock: Clock,
    owner: str,
    tuning: BlastTuning | None,
    stack: AsyncExitStack,
) -> BlastWorker:
    """On the blast thread, in its loop: its own repository, adapters and queue."""
    repo = await open_repository(
        url, TokenCipher(secret), migrate=False, pool_size=settings.blast_database_pool_size
    )
    stack.push_async_callback(repo.close)
    registry = build_networks(settings, repo)
    for adapter in registry.revokers().values():
        stack.push_async_callback(_close, adapter)
    queue = open_blast_queue(repo, channel=blast_channel(settings, url))
    stack.push_async_callback(queue.close)  # its LISTEN connection before the pool closes
    return blast_worker(settings, repo, queue, registry, clock, tuning, owner=owner)


class ThreadedBlastWorker:
    """This process's ``BlastWorker`` on the blast thread (``bot.blast.thread``). Should
    that thread's loop die, a worker in the main loop takes its place, so launches still
    get their batches posted (slower replies beat a launch that never ends)."""

    def __init__(
        self,
        settings: Settings,
        *,
        url: str,
        secret: str,
        main_repo: Repository,
        main_queue: BlastQueue,
        main_registry: NetworkRegistry,
        clock: Clock,
        tuning: BlastTuning | None = None,
    ) -> None:
        self.owner = uuid.uuid4().hex
        self._fallback_args = (settings, main_repo, main_queue, main_registry, clock, tuning)
        self.fallback: BlastWorker | None = None
        self._fallback_start: asyncio.Task[None] | None = None
        self.host = BlastThread(
            partial(_open_blast_job, settings, url, secret, clock, self.owner, tuning),
            on_crash=self._crashed,
            nice=BLAST_THREAD_NICE,
        )

    async def start(self) -> None:
        await self.host.start()

    async def stop(self) -> None:
        if self._fallback_start is not None:
            with contextlib.suppress(Exception):
                await self._fallback_start
        if self.fallback is not None:
            await self.fallback.stop()
        await self.host.stop()

    def _crashed(self, error: BaseException | None) -> None:
        log.error("the blast thread died: its batches are posted in the main loop from now on")
        settings, repo, queue, registry, clock, tuning = self._fallback_args
        self.fallback = blast_worker(settings, repo, queue, registry, clock, tuning)
        self._fallback_start = asyncio.get_running_loop().create_task(self.fallback.start())


def blast_worker(
    settings: Settings,
    repo: Repository,
    queue: BlastQueue,
    registry: NetworkRegistry,
    clock: Clock,
    tuning: BlastTuning | None = None,
    *,
    owner: str | None = None,
) -> BlastWorker:
    """This process's worker over ``queue``, sized by the settings."""
    return BlastWorker(
        repo=repo,
        queue=queue,
        registry=registry,
        clock=clock,
        concurrency=settings.blast_concurrency,
        retry_window_seconds=settings.blast_retry_window_seconds,
        tuning=tuning,
        owner=owner,
    )


async def start_blast_worker(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    url: str,
    secret: str,
    repo: Repository,
    queue: BlastQueue,
    registry: NetworkRegistry,
    clock: Clock,
    tuning: BlastTuning | None = None,
) -> ThreadedBlastWorker | BlastWorker | None:
    """Start this process's part of the launched blasts (stopped by ``stack``): with a
    shared ``queue`` (PostgreSQL, or an SQLite file with the thread), a worker that
    claims batches, on the blast thread (BLAST_THREAD) or in the main loop; none with
    BLAST_WORKER=false, nor with a queue that is not shared (the launch posts itself)."""
    if not queue.shared:
        return None
    if not settings.blast_worker:
        log.info("this process posts no blast batches (BLAST_WORKER=false)")
        return None
    if isinstance(queue, SqliteBlastQueue) and (orphans := await queue.release_orphans()):
        log.info("%s blast batches of a process that died given back", orphans)
    worker: ThreadedBlastWorker | BlastWorker
    if settings.blast_thread:
        worker = ThreadedBlastWorker(
            settings,
            url=url,
            secret=secret,
            main_repo=repo,
            main_queue=queue,
            main_registry=registry,
            clock=clock,
            tuning=tuning,
        )
        where = "on its own thread"
    else:
        worker = blast_worker(settings, repo, queue, registry, clock, tuning)
        where = "in the main loop"
    await _start("blast worker", worker.start)
    stack.push_async_callback(_stop, "blast worker", worker.stop)
    log.info("blast worker %s started %s", worker.owner[:8], where)
    return worker


def chat_platforms(settings: Settings, *, succession: bool = False) -> list[ChatPlatform]:
    """The front ends whose token is set (their SDKs are imported only then).

    Every process serves the Telegram webhook and sends through both platforms' HTTP APIs.
    With ``succession`` (``chorus run``) the leading process alone sets the webhook or
    polls, publishes the command menu and, with DISCORD_GATEWAY=auto, holds the Discord
    gateway: each platform's ``leader_duties``, which the Succession starts and stops.
    Without it (one process that always leads: the benchmarks) each inbound side does
    that itself. DISCORD_GATEWAY=on holds the gateway in this process whether it leads or
    not; off never does.
    """
    platforms: list[ChatPlatform] = []
    if settings.telegram_enabled:
        from adapters.telegram.client import build_application
        from adapters.telegram.inbound import TelegramInbound, TelegramIntake
        from adapters.telegram.outbound import TelegramOutbound
        from adapters.telegram.webhook import webhook_routes

        application = build_application(settings)
        outbound: ChatFrontEnd = TelegramOutbound(settings, application.bot)
        inbound = partial(TelegramInbound, application, intake=not succession)
        routes = tuple(webhook_routes(settings, application))
        intake: dict[str, Duty] = {}
        if succession:
            intake["telegram intake"] = TelegramIntake(application, settings)
        platforms.append(ChatPlatform("Telegram", outbound, inbound, routes, intake))
    if settings.discord_enabled:
        from adapters.discord.inbound import DiscordGateway, DiscordInbound
        from adapters.discord.outbound import DiscordOutbound, new_client

        client = new_client()
        outbound = DiscordOutbound(settings, client)
        mode = settings.discord_gateway
        duties: dict[str, Duty] = {}
        if mode == "auto" and succession:
            duties["discord gateway"] = DiscordGateway(client, settings)
        held = mode == "on" or (mode == "auto" and not succession)  # for the process's life
        inbound_side = partial(DiscordInbound, client, gateway=held)
        platforms.append(ChatPlatform("Discord", outbound, inbound_side, (), duties))
    return platforms


def leader_duties(platforms: list[ChatPlatform]) -> dict[str, Duty]:
    """Every platform's leader duties, by name, for ``build_chorus``."""
    return {name: duty for platform in platforms for name, duty in platform.leader_duties.items()}


async def _start_front_ends(
    platforms: list[ChatPlatform], services: ChatServices, stack: AsyncExitStack
) -> None:
    for platform in platforms:
        front_end = platform.inbound(services)
        await _start(f"{platform.label} front end", front_end.start)
        stack.push_async_callback(_stop, f"{platform.label} front end", front_end.stop)
        log.info("%s front end started", platform.label)


@dataclass(frozen=True)
class ConsoleParts:
    """``chorus console`` wired: the console's two sides, what they play, and the core."""

    core: Chorus
    front: ConsoleFrontEnd
    sandbox: SandboxNetwork
    scheduler: LaunchControl
    session: ConsoleSession


def picture_store(settings: Settings) -> FilePictureStore:
    """Campaign pictures as files under DATA_DIR/pictures."""
    return FilePictureStore(Path(settings.data_dir) / "pictures")


def wire_console(
    settings: Settings,
    repo: Repository,
    clock: ShiftableClock,
    out: TextIO,
    *,
    language: str,
    secret: str,
    persona_name: str = "you",
) -> ConsoleParts:
    """The core with the console as its only front end and the sandbox as its only network.

    One place, so the tests run the console wired exactly as ``chorus console`` is: the
    console's outbound side first, then the core, the scheduler, and the session (its
    inbound side) last. The scheduler is not started.
    """
    from adapters.console.front_end import ConsoleFrontEnd
    from adapters.console.session import ConsoleSession
    from adapters.networks.sandbox import SANDBOX_SPEC, SandboxNetwork

    front = ConsoleFrontEnd(out, language, settings.timezone)
    sandbox = SandboxNetwork(clock, on_post=front.show_post)
    registry = NetworkRegistry()
    registry.register(SANDBOX_SPEC, sandbox)
    core = build_chorus(
        settings,
        repo,
        clock,
        secret=secret,
        registry=registry,
        front_ends=[front],
        card_delay_seconds=0,
        pictures=picture_store(settings),
    )
    scheduler = core.scheduler
    session = ConsoleSession(
        core.chat,
        front,
        sandbox,
        clock,
        scheduler,
        flush_cards=core.cards.flush,
        read_link=core.links.read,
        persona_name=persona_name,
    )
    return ConsoleParts(core, front, sandbox, scheduler, session)


async def _start_web(app: web.Application, settings: Settings, stack: AsyncExitStack) -> None:
    runner = web.AppRunner(app, access_log=None)  # paths hold tokens
    await runner.setup()
    stack.push_async_callback(_stop, "web server", runner.cleanup)
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    try:
        await site.start()
    except OSError as exc:
        raise StartupError(
            f"the web server cannot listen on {settings.web_host}:{settings.web_port}: {exc}"
        ) from exc
    for address in runner.addresses:
        if isinstance(address, tuple):
            log.info("web server listening on http://%s:%s", address[0], address[1])


async def _start(label: str, start: Callable[[], Awaitable[None]]) -> None:
    try:
        await start()
    except StartupError:
        raise
    except Exception as exc:
        log.debug("%s failed to start", label, exc_info=True)
        raise StartupError(f"the {label} failed to start: {exc}") from exc


async def _stop(label: str, stop: Callable[[], Awaitable[None]]) -> None:
    try:
        await stop()
    except Exception:  # one component failing to stop must not keep the others running
        log.exception("stopping the %s failed", label)
    else:
        log.info("%s stopped", label)


async def serve(settings: Settings) -> int:
    """``chorus run``: everything in one event loop until SIGINT or SIGTERM; 0 when clean."""
    secret = settings.require_secret_key()
    settings.require_moderation()
    settings.require_telegram_webhook()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        async with AsyncExitStack() as stack:
            url = settings.resolved_database_url
            if url.startswith("sqlite:///") and ":memory:" not in url:
                folder = Path(url.removeprefix("sqlite:///")).parent
                await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            repo = await open_storage(url, secret, pool_size=settings.database_pool_size)
            stack.push_async_callback(_stop, "storage", repo.close)
            version = await repo.migrate()
            log.info("storage ready: %s (schema version %s)", redact_url(url), version)

            registry = build_networks(settings, repo)
            for network, adapter in registry.revokers().items():
                stack.push_async_callback(_stop, f"{network} network", partial(_close, adapter))
            log.info("networks ready: %s", ", ".join(registry.ids()) or "none")

            tuning = BlastTuning(lease_seconds=settings.blast_lease_seconds)
            blast_queue = open_process_blast_queue(settings, repo, url)
            if blast_queue.shared:  # its LISTEN connection goes back before the pool closes
                stack.push_async_callback(_stop, "blast queue", blast_queue.close)
            # every process serves the webhook; the leader alone sets it (or polls) and,
            # with DISCORD_GATEWAY=auto, holds the Discord gateway: duties of the Succession
            platforms = chat_platforms(settings, succession=True)
            role = RoleState(Role.FOLLOWER)  # the succession sets it when it leads
            chorus = build_chorus(
                settings,
                repo,
                SystemClock(),
                secret=secret,
                registry=registry,
                front_ends=[platform.outbound for platform in platforms],
                pictures=picture_store(settings),
                leadership=open_leadership(url, poll_seconds=settings.leader_poll_seconds),
                role=role,
                web_routes=[route for platform in platforms for route in platform.web_routes],
                blast_queue=blast_queue,
                tuning=tuning,
                duties=leader_duties(platforms),
            )
            await _start_front_ends(platforms, chorus.chat, stack)
            if not chorus.notifier.platforms:
                log.warning("no chat front end: set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN")
            await _start_web(chorus.web_app, settings, stack)

            stack.push_async_callback(chorus.cards.flush)  # after the scheduler, before the rest
            # the leader alone runs the scheduler, maintenance and the chat front ends' leader
            # duties (always, on SQLite); after the front ends, so they stop first
            succession = chorus.succession
            await _start("leadership", succession.start)  # names a duty that failed
            stack.push_async_callback(_stop, "leadership", succession.stop)
            log.info("leadership: %s", succession.role)
            await start_blast_worker(  # every process posts batches of the launched blasts
                settings,
                stack,
                url=url,
                secret=secret,
                repo=repo,
                queue=blast_queue,
                registry=registry,
                clock=SystemClock(),
                tuning=tuning,
            )

            await asyncio.to_thread(i18n.preload)  # not on the first person's reply
            heap.freeze_startup()  # full collections walk only what comes after start-up
            log.info("chorus is running; stop it with Ctrl-C or SIGTERM")
            await stopping.wait()
            role.drain()  # /readyz says 503 from now on, so a proxy sends no new work
            log.info("shutting down", extra={"role": role.current.value})
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("chorus stopped")
    return 0
