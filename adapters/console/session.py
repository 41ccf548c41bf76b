"""What the person at the console typed, turned into calls to the core's services.

One line at a time: a ``/command``, a button number, or free text for the campaign
dialog. The persona (``/as alice``) says who is acting; in the console everyone may
moderate. Nothing here decides a rule: refusals come back from the core as
``DomainError`` and are printed in the console's language.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.console.clock import ShiftableClock
from adapters.console.durations import parse_duration
from adapters.console.front_end import GROUP, ConsoleFrontEnd, persona
from adapters.networks.sandbox import INSTANCE, SANDBOX, SandboxNetwork
from bot.dialog import ACTION_PREFIX, DialogReply, Step
from bot.domain.account import LinkedProfile
from bot.domain.campaign import CampaignStatus
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.outgoing import OutgoingMessage
from bot.domain.pledge import Pledge
from bot.domain.text import Text, t
from bot.runtime import LaunchControl
from bot.services.campaign_edits import WITHDRAW_ACTION
from bot.services.cards import (
    APPROVE_ACTION,
    CHANGES_ACTION,
    POST_NOW_ACTION,
    REJECT_ACTION,
    SUPPORT_ACTION,
    summary_line,
)
from bot.services.chat_services import ChatServices
from bot.services.links import PledgeTicket
from bot.services.recruiter_names import CONSENT_ACTION
from bot.services.stats import chart_png, figures_csv, figures_message
from bot.services.updates import MUTE_ACTION, UNMUTE_ACTION
from bot.services.views import (
    campaign_cancelled,
    campaign_list,
    forgotten,
    pending_list,
    pledge_list,
    unpledged,
)

log = logging.getLogger(__name__)

PERSONA_RE = re.compile(r"^@?([\w.-]{1,32})$", re.UNICODE)
LAUNCH_STEP = timedelta(seconds=1)
AFTER_LAUNCH = {CampaignStatus.LAUNCHING, CampaignStatus.LAUNCHED, CampaignStatus.FAILED}


def sandbox_followers(name: str) -> int:
    """A small follower count that is the same for a name in every run (10 to 499)."""
    return 10 + zlib.crc32(name.casefold().encode()) % 490


@dataclass(frozen=True)
class Command:
    handler: Callable[[str], Awaitable[None]]
    usage: str  # shown when the arguments are wrong


class ConsoleSession:
    """Executes console lines as the current persona.

    Besides the chat services it plays what the console has no other way to do: the
    supporter's browser (``read_link`` reads a pledge link, the ``sandbox`` links an
    account), time passing (the ``clock`` and the ``scheduler``), and waiting for card
    updates before the next prompt (``flush_cards``).
    """

    def __init__(
        self,
        services: ChatServices,
        front: ConsoleFrontEnd,
        sandbox: SandboxNetwork,
        clock: ShiftableClock,
        scheduler: LaunchControl,
        *,
        flush_cards: Callable[[], Awaitable[None]],
        read_link: Callable[[str], PledgeTicket],
        persona_name: str = "you",
    ) -> None:
        self.services = services
        self._flush_cards = flush_cards
        self._read_link = read_link
        self.front = front
        self.sandbox = sandbox
        self.clock = clock
        self.scheduler = scheduler
        self.language = front.language
        self.user = persona(persona_name, self.language)
        self.finished = False
        self.commands: dict[str, Command] = {
            "help": Command(self._help, "/help"),
            "as": Command(self._as, "/as NAME"),
            "newcampaign": Command(self._new_campaign, "/newcampaign"),
            "cancel": Command(self._cancel, "/cancel [REF]"),
            "press": Command(self._press, "/press NUMBER"),
            "approve": Command(self._approve, "/approve REF"),
            "reject": Command(self._reject, "/reject REF REASON"),
            "changes": Command(self._request_changes, "/changes REF NOTE"),
            "editcampaign": Command(self._edit_campaign, "/editcampaign REF [FIELD VALUE]"),
            "resubmit": Command(self._resubmit, "/resubmit REF"),
            "pending": Command(self._pending, "/pending"),
            "promote": Command(self._promote, "/promote REF"),
            "support": Command(self._support, "/support REF [your own words]"),
            "update": Command(self._update, "/update REF TEXT"),
            "stats": Command(self._stats, "/stats REF [csv]"),
            "mycampaigns": Command(self._my_campaigns, "/mycampaigns"),
            "mypledges": Command(self._my_pledges, "/mypledges"),
            "unpledge": Command(self._unpledge, "/unpledge REF"),
            "forget": Command(self._forget, "/forget"),
            "wait": Command(self._wait, "/wait DURATION"),
            "launch": Command(self._launch, "/launch"),
            "status": Command(self._status, "/status REF"),
            "quit": Command(self._quit, "/quit"),
        }

    @property
    def prompt(self) -> str:
        return f"{self.user.name}> "

    async def handle(self, line: str) -> bool:
        """Run one line; False once the person asked to quit."""
        text = line.strip()
        if not text:
            return not self.finished
        try:
            await self._dispatch(text)
        except DomainError as exc:
            self.front.say(exc.text)
        except Exception:  # a console bug must not end the session or lose the data
            log.exception("console command %r failed", text.split()[0])
            self.front.say(t("error.internal"))
        await self._flush_cards()
        return not self.finished

    async def _dispatch(self, text: str) -> None:
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            name = name.lower().split("@")[0]
            command = self.commands.get(name)
            if command is None and await self.services.dialogs.wants_picture(self.user):
                self._show_dialog(await self._picture_from(text))  # an absolute path
                return
            if command is None:
                raise InvalidInput("console.unknown_command", command=f"/{name}")
            await command.handler(args.strip())
            return
        dialogs = self.services.dialogs
        if text.isdigit() and not await dialogs.wants_text(self.user):
            await self._press(text)
            return
        if await dialogs.wants_picture(self.user):  # the console's picture is a file path
            self._show_dialog(await self._picture_from(text))
            return
        self._show_dialog(await dialogs.text(self.user, text))

    async def _picture_from(self, typed: str) -> DialogReply:
        """The picture in the file ``typed`` names, read only if the dialog may take it."""

        def size() -> int | None:
            try:
                path = Path(typed).expanduser()
                return path.stat().st_size if path.is_file() else None
            except (OSError, RuntimeError, ValueError):  # no home, a NUL in the path...
                return None

        def read() -> bytes:
            return Path(typed).expanduser().read_bytes()

        found = await asyncio.to_thread(size)
        if found is None:
            raise InvalidInput("console.no_such_picture", path=typed[:200])
        return await self.services.dialogs.picture(
            self.user, lambda: asyncio.to_thread(read), found
        )

    def _usage(self, name: str) -> InvalidInput:
        return InvalidInput("console.usage", usage=self.commands[name].usage)

    def _show_dialog(self, reply: DialogReply) -> None:
        self.front.show_private(self.user, reply.message)
        if reply.state is not None and reply.state.step is Step.PICTURE:
            self.front.say(t("console.picture_hint"))

    # people and help

    async def _help(self, args: str) -> None:
        self.front.say(t("console.help"))

    async def _as(self, args: str) -> None:
        if not args:
            raise self._usage("as")
        match = PERSONA_RE.match(args)
        if match is None:
            raise InvalidInput("console.bad_persona", value=args[:40])
        self.user = persona(match.group(1), self.language)
        self.front.say(t("console.persona", persona=self.user.name))

    # organisers

    async def _new_campaign(self, args: str) -> None:
        self._show_dialog(await self.services.dialogs.begin(self.user))

    async def _cancel(self, args: str) -> None:
        if not args:
            self._show_dialog(await self.services.dialogs.cancel(self.user))
            return
        campaign = await self.services.campaigns.cancel(args.split()[0], self.user)
        self.front.say(campaign_cancelled(campaign))

    async def _promote(self, args: str) -> None:
        if not args:
            raise self._usage("promote")
        await self.services.campaigns.promote(
            args.split()[0], GROUP, self.user, requester_is_admin=False, language=self.language
        )

    async def _update(self, args: str) -> None:
        ref, _, text = args.partition(" ")
        if not ref:
            raise self._usage("update")
        self.front.show_private(self.user, await self.services.updates.send(ref, self.user, text))

    async def _stats(self, args: str) -> None:
        words = args.split()
        wants_csv = len(words) == 2 and words[1].lower() == "csv"
        if len(words) != 1 and not wants_csv:
            raise self._usage("stats")
        # in the console everyone may moderate, so everyone may read the figures
        figures = await self.services.stats.figures(words[0], self.user, may_moderate=True)
        folder = self.services.settings.data_dir / "stats"
        stamp = self.clock.now().strftime("%Y%m%d-%H%M%S")
        if wants_csv:
            path = folder / f"{figures.campaign.ref}-{stamp}.csv"
            await asyncio.to_thread(_write, path, figures_csv(figures))
            self.front.say(t("stats.csv_saved", path=str(path)))
            return
        path = folder / f"{figures.campaign.ref}-{stamp}.png"
        await asyncio.to_thread(_write, path, await chart_png(figures, self.language))
        self.front.say(*figures_message(figures).parts, t("stats.saved", path=str(path)))

    async def _edit_campaign(self, args: str) -> None:
        ref, _, rest = args.partition(" ")
        if not ref:
            raise self._usage("editcampaign")
        field, _, value = rest.strip().partition(" ")
        edits = self.services.edits
        if not field:
            shown = await edits.show(ref, self.user)
            self.front.show_private(self.user, shown)
            self.front.say(t("console.edit_how", ref=shown.parts[0].params["ref"]))
            return
        self.front.show_private(self.user, await edits.edit(ref, self.user, field, value))

    async def _resubmit(self, args: str) -> None:
        if not args:
            raise self._usage("resubmit")
        answer = await self.services.edits.resubmit(args.split()[0], self.user)
        self.front.show_private(self.user, answer)

    async def _my_campaigns(self, args: str) -> None:
        rows = await self.services.campaigns.of_organiser(self.user)
        self.front.say(*campaign_list(rows, self.clock.now()).parts)

    async def _status(self, args: str) -> None:
        if not args:
            raise self._usage("status")
        campaign = await self.services.campaigns.get(args.split()[0])
        stats = await self.services.campaigns.stats(campaign)
        card = self.services.campaigns.card(campaign, stats)
        parts = [*card.parts, summary_line(campaign, stats, self.clock.now())]
        parts.extend(await self.services.status.page_lines(campaign.ref))
        if campaign.status in AFTER_LAUNCH:
            parts.append(
                t(
                    "console.status_results",
                    posted=stats.posted,
                    failed=stats.failed,
                    reach=stats.posted_reach,
                )
            )
        self.front.show_private(self.user, OutgoingMessage(tuple(parts), card.buttons))

    # moderators (everyone, in the console)

    async def _approve(self, args: str) -> None:
        if not args:
            raise self._usage("approve")
        campaign = await self.services.campaigns.get(args.split()[0])
        assert campaign.id is not None
        await self.services.moderation.approve(campaign.id, self.user, may_moderate=True)

    async def _pending(self, args: str) -> None:
        campaigns = await self.services.moderation.pending(may_moderate=True)
        self.front.show_private(self.user, pending_list(campaigns))

    async def _reject(self, args: str) -> None:
        ref, _, reason = args.partition(" ")
        if not ref:
            raise self._usage("reject")
        campaign = await self.services.campaigns.get(ref)
        assert campaign.id is not None
        await self.services.moderation.reject(
            campaign.id, self.user, reason.strip(), may_moderate=True
        )

    async def _request_changes(self, args: str) -> None:
        ref, _, note = args.partition(" ")
        if not ref:
            raise self._usage("changes")
        campaign = await self.services.campaigns.get(ref)
        assert campaign.id is not None
        await self.services.moderation.request_changes(
            campaign.id, self.user, note.strip(), may_moderate=True
        )

    # supporters

    async def _support(self, args: str) -> None:
        ref, _, words = args.partition(" ")
        if not ref:
            raise self._usage("support")
        await self._pledge(ref, words.strip() or None)

    async def _pledge(self, ref: str, words: str | None) -> Pledge:
        """What a supporter does in a browser, done here: open the link, link an account."""
        _, message = await self.services.pledges.support(ref, self.user)
        self.front.show_private(self.user, message)
        url = next(b.url for row in message.buttons for b in row if b.url is not None)
        ticket = self._read_link(url.rsplit("/", 1)[-1])
        name = self.user.id
        followers = sandbox_followers(name)
        self.front.say(t("console.linking", handle=name, followers=followers))
        profile = LinkedProfile(
            network=SANDBOX,
            instance=INSTANCE,
            remote_id=name,
            handle=name,
            followers=followers,
            tokens=self.sandbox.link(name),
        )
        return await self.services.pledges.record(ticket, profile, words)

    async def _my_pledges(self, args: str) -> None:
        rows = await self.services.pledges.of_supporter(self.user)
        self.front.say(*pledge_list(rows).parts)

    async def _unpledge(self, args: str) -> None:
        if not args:
            raise self._usage("unpledge")
        ref = args.split()[0]
        count = await self.services.pledges.unpledge(ref, self.user)
        self.front.say(unpledged(ref, count))

    async def _forget(self, args: str) -> None:
        erased = await self.services.pledges.forget(self.user)
        self.front.say(forgotten(erased))

    # buttons

    async def _press(self, args: str) -> None:
        if not args:
            raise self._usage("press")
        await self.run_action(self.front.action_of(args))

    async def run_action(self, action: str) -> None:
        """Do what a button asks, as the current persona."""
        name, _, value = action.partition(":")
        if action.startswith(ACTION_PREFIX):
            self._show_dialog(await self.services.dialogs.action(self.user, action))
        elif name == SUPPORT_ACTION:
            await self._pledge(value, None)
        elif name == POST_NOW_ACTION:
            answer = await self.services.post_now.press(value, self.user)
            if answer.message is None:
                self.front.say(answer.note)
            else:
                self.front.show_private(self.user, answer.message)
                await self.services.post_now.handed(answer, self.user)
        elif name == APPROVE_ACTION:
            await self.services.moderation.approve(int(value), self.user, may_moderate=True)
        elif name in (MUTE_ACTION, UNMUTE_ACTION):
            updates = self.services.updates
            toggle = updates.mute if name == MUTE_ACTION else updates.unmute
            self.front.show_private(self.user, await toggle(value, self.user))
        elif name == CONSENT_ACTION:
            message = await self.services.recruiters.toggle_message(value, self.user)
            self.front.show_private(self.user, message)
        elif name == REJECT_ACTION:
            campaign = await self.services.campaigns.get_by_id(int(value))
            self.front.say(t("console.reject_how", ref=campaign.ref))
        elif name == CHANGES_ACTION:
            campaign = await self.services.campaigns.get_by_id(int(value))
            self.front.say(t("console.changes_how", ref=campaign.ref))
        elif name == WITHDRAW_ACTION:
            self.front.show_private(
                self.user, await self.services.edits.withdraw(value, self.user)
            )
        else:
            raise InvalidInput("console.unknown_button")

    # time

    async def _wait(self, args: str) -> None:
        if not args:
            raise self._usage("wait")
        self.clock.shift(parse_duration(args))
        await self.catch_up()
        self._say_time()

    async def _launch(self, args: str) -> None:
        now = self.clock.now()
        upcoming = await self.services.campaigns.upcoming()
        if not upcoming:
            self.front.say(t("console.nothing_to_launch"))
            await self.catch_up()
            return
        campaign = upcoming[0]
        self.front.say(t("console.jump", ref=campaign.ref, launch_at=campaign.launch_at))
        self.clock.shift(campaign.launch_at - now + LAUNCH_STEP)
        await self.catch_up()
        self._say_time()

    async def catch_up(self) -> None:
        """Let the scheduler run everything that became due, and wait until it is done."""
        await self.scheduler.sync()
        await self.scheduler.wait_idle()
        await self._flush_cards()

    def _say_time(self) -> None:
        self.front.say(
            t(
                "console.clock",
                now=self.clock.now(),
                ahead=_duration_words(self.clock.offset),
            )
        )

    async def _quit(self, args: str) -> None:
        self.finished = True

    async def finish(self) -> None:
        """Let pending work end before closing: the scheduler's runs, then card updates."""
        await self.scheduler.wait_idle()
        await self._flush_cards()


def _duration_words(delta: timedelta) -> Text:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return t("console.ahead", days=days, hours=hours, minutes=minutes)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
