"""Runs the /newcampaign dialog for each organiser, keeping its state in the database
so a restart in the middle of a question loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.dialog import (
    TEXT_STEPS,
    DialogReply,
    DialogRules,
    DialogState,
    FormAnswers,
    NewCampaignDialog,
    Step,
)
from bot.domain.errors import DomainError
from bot.domain.networks import NetworkSpec
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import ChatRef, UserRef
from bot.domain.text import t
from bot.ports import Clock, Repository
from bot.services.campaigns import CampaignService
from bot.services.pictures import PictureService

log = logging.getLogger(__name__)


@dataclass
class DialogService:
    repo: Repository
    campaigns: CampaignService
    clock: Clock
    tz: ZoneInfo
    min_lead: timedelta
    offered: tuple[NetworkSpec, ...]  # the registered networks, in the order the dialog shows
    pictures: PictureService

    def _dialog(self) -> NewCampaignDialog:
        rules = DialogRules(self.clock.now(), self.tz, self.min_lead, self.offered)
        return NewCampaignDialog(rules)

    async def begin(self, user: UserRef, form: FormAnswers | None = None) -> DialogReply:
        """Start afresh; ``form`` is what a form front end was given (kept with the state)."""
        reply = self._dialog().start(form)
        await self._store(user, reply)
        return reply

    async def active(self, user: UserRef) -> bool:
        return await self.repo.load_dialog(user.key) is not None

    async def wants_text(self, user: UserRef) -> bool:
        """Whether the user's dialog waits for typed text (not a button)."""
        state = await self._load(user)
        return state is not None and state.step in TEXT_STEPS

    async def current(self, user: UserRef) -> DialogState | None:
        """The user's dialog as it stands, None if there is none."""
        return await self._load(user)

    async def remember_form(self, user: UserRef, form: FormAnswers) -> None:
        """Keep ``form`` with the user's dialog (nothing happens without one)."""
        state = await self._load(user)
        if state is not None:
            await self.repo.save_dialog(user.key, replace(state, form=form).to_dict())

    async def text(
        self,
        user: UserRef,
        text: str,
        origin: ChatRef | None = None,
        *,
        promote_origin: bool = False,
    ) -> DialogReply:
        """``origin``: the chat the dialog runs in; ``promote_origin``: it is a shared chat
        (not a private one) where the card goes once approved (``CampaignService.submit``)."""
        state = await self._load(user)
        if state is None:
            return DialogReply(None, OutgoingMessage.of(t("dialog.none_active")))
        reply = self._dialog().handle_text(state, text)
        return await self._finish(user, reply, origin, promote_origin)

    async def wants_picture(self, user: UserRef) -> bool:
        """Whether the user's dialog waits for a picture."""
        state = await self._load(user)
        return state is not None and state.step is Step.PICTURE

    async def picture(
        self,
        user: UserRef,
        fetch: Callable[[], Awaitable[bytes]],
        size: int | None = None,
        origin: ChatRef | None = None,
    ) -> DialogReply:
        """The organiser sent a picture of ``size`` bytes (if the platform says); ``fetch``
        downloads it, called only when the dialog waits for one and the size is allowed."""
        state = await self._load(user)
        if state is None:
            return DialogReply(None, OutgoingMessage.of(t("dialog.none_active")))
        dialog = self._dialog()
        if state.step is not Step.PICTURE:
            return dialog.handle_picture(state, "")  # says no picture is expected here
        try:
            self.pictures.check_size(size)
            key = await self.pictures.accept(await fetch())
        except DomainError as exc:
            return dialog.ask(state, error=exc.text)
        # never a submission: the preview comes after the picture
        return await self._finish(user, dialog.handle_picture(state, key), origin, False)

    async def reuse_picture(
        self, user: UserRef, key: str, origin: ChatRef | None = None
    ) -> DialogReply:
        """Answer the picture step with a picture this Chorus already kept (a draft's own,
        when a form front end runs the dialog again); asks again if it is gone."""
        state = await self._load(user)
        if state is None:
            return DialogReply(None, OutgoingMessage.of(t("dialog.none_active")))
        dialog = self._dialog()
        if await self.pictures.load(key) is None:
            return dialog.ask(state)
        # never a submission: the preview comes after the picture
        return await self._finish(user, dialog.handle_picture(state, key), origin, False)

    async def action(
        self,
        user: UserRef,
        action: str,
        origin: ChatRef | None = None,
        *,
        promote_origin: bool = False,
    ) -> DialogReply:
        state = await self._load(user)
        if state is None:
            return DialogReply(None, OutgoingMessage.of(t("dialog.none_active")))
        reply = self._dialog().handle_action(state, action)
        return await self._finish(user, reply, origin, promote_origin)

    async def cancel(self, user: UserRef) -> DialogReply:
        had = await self.active(user)
        await self.repo.delete_dialog(user.key)
        key = "dialog.cancelled" if had else "dialog.none_active"
        return DialogReply(None, OutgoingMessage.of(t(key)), cancelled=had)

    async def _finish(
        self, user: UserRef, reply: DialogReply, origin: ChatRef | None, promote_origin: bool
    ) -> DialogReply:
        if reply.submitted is not None:
            try:
                campaign = await self.campaigns.submit(
                    reply.submitted, user, origin, promote_origin=promote_origin
                )
            except DomainError as exc:
                state = await self._load(user)
                if state is None:
                    return DialogReply(None, OutgoingMessage.of(exc.text), errors=(exc.text,))
                return self._dialog().ask(state, error=exc.text)
            await self.repo.delete_dialog(user.key)
            return DialogReply(
                None,
                OutgoingMessage.of(t("dialog.submitted", ref=campaign.ref, title=campaign.title)),
                submitted=reply.submitted,
                campaign_ref=campaign.ref,
            )
        await self._store(user, reply)
        return reply

    async def _load(self, user: UserRef) -> DialogState | None:
        data = await self.repo.load_dialog(user.key)
        if not data:
            return None
        try:
            return DialogState.from_dict(data)
        except (KeyError, TypeError, ValueError):  # unreadable (an older version's shape)
            log.warning("dropping an unreadable dialog state of %s", user.key)
            await self.repo.delete_dialog(user.key)
            return None

    async def _store(self, user: UserRef, reply: DialogReply) -> None:
        if reply.state is None:
            await self.repo.delete_dialog(user.key)
        else:
            await self.repo.save_dialog(user.key, reply.state.to_dict())
