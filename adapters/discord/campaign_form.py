"""The /newcampaign modal fed through the core dialog, one field after another.

Discord asks every question at once in a form, while the core dialog asks them one by
one; this module bridges the two without any rule of its own: it begins the dialog,
feeds each field as typed text and stops at the first refusal, or at the warning about
a message without a hashtag until the organiser keeps it (then goes on with the rest of
the form). The raw form (the networks already chosen, the message kept without a
hashtag) is kept with the dialog so "Fix" and "Edit" reopen the form prefilled, and
resubmitting does not ask again about the same message, even after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from adapters.discord.modals import FORM_FIELDS
from bot.dialog import DialogReply, DialogState, Step
from bot.domain.refs import ChatRef, UserRef
from bot.ports import Repository
from bot.services.dialogs import DialogService

FORM_KEY_SUFFIX = ":discord-form"


@dataclass(frozen=True)
class SavedForm:
    values: dict[str, str]
    networks: tuple[str, ...] = ()
    kept_message: str | None = None  # kept without a hashtag: not asked about again


class CampaignForm:
    def __init__(self, dialogs: DialogService, repo: Repository, tz: ZoneInfo) -> None:
        self._dialogs = dialogs
        self._repo = repo
        self._tz = tz

    async def saved(self, user: UserRef) -> SavedForm | None:
        data = await self._repo.load_dialog(user.key + FORM_KEY_SUFFIX)
        if not data:
            return None
        kept = data.get("kept_message")
        return SavedForm(
            {k: str(v) for k, v in dict(data.get("values", {})).items()},
            tuple(data.get("networks", ())),
            str(kept) if kept is not None else None,
        )

    async def forget(self, user: UserRef) -> None:
        await self._repo.delete_dialog(user.key + FORM_KEY_SUFFIX)

    async def for_edit(self, user: UserRef) -> SavedForm | None:
        """The current draft as form values, remembering its networks; None if no draft."""
        data = await self._repo.load_dialog(user.key)
        if not data:
            return None
        state = DialogState.from_dict(data)
        saved = await self.saved(user)
        values = dict(saved.values) if saved else {}
        if state.title is not None:
            values["title"] = state.title
        if state.message is not None:
            values["message"] = state.message
        if state.goal is not None:
            values["goal"] = str(state.goal)
        if state.launch_at is not None:
            values["launch"] = f"{state.launch_at.astimezone(self._tz):%Y-%m-%d %H:%M}"
        form = SavedForm(
            values, tuple(str(n) for n in state.networks), saved.kept_message if saved else None
        )
        await self._save(user, form)
        return form

    async def submit(
        self,
        user: UserRef,
        values: dict[str, str],
        origin: ChatRef | None,
        *,
        keep_networks: bool = False,
    ) -> DialogReply:
        """Run the dialog from the start with these answers; stop at the first refusal.

        ``keep_networks`` (editing a draft) chooses again the networks chosen before.
        """
        previous = await self.saved(user)
        networks = previous.networks if previous and keep_networks else ()
        kept = previous.kept_message if previous and keep_networks else None
        form = SavedForm(values, networks, kept)
        await self._save(user, form)
        return await self._feed(user, form, await self._dialogs.begin(user), origin)

    async def keep_message(self, user: UserRef, origin: ChatRef | None) -> DialogReply:
        """The organiser keeps the message without a hashtag: go on with the rest of the form."""
        reply = await self._dialogs.action(user, "dlg:keep_message", origin)
        saved = await self.saved(user)
        if saved is None or reply.errors or reply.state is None:
            return reply
        form = SavedForm(saved.values, saved.networks, saved.values.get("message", ""))
        await self._save(user, form)
        return await self._feed(user, form, reply, origin)

    async def _feed(
        self, user: UserRef, form: SavedForm, reply: DialogReply, origin: ChatRef | None
    ) -> DialogReply:
        """Answer the dialog's questions from ``form``, from the one it is asking now."""
        for name in FORM_FIELDS:
            if reply.state is None or reply.state.step is not Step(name):
                continue
            reply = await self._dialogs.text(user, form.values.get(name, ""), origin)
            if reply.state is not None and reply.state.step is Step.CONFIRM_MESSAGE:
                if form.kept_message != form.values.get("message"):
                    return reply  # the organiser decides: keep it, or fix the form
                reply = await self._dialogs.action(user, "dlg:keep_message", origin)
            if reply.errors or reply.state is None:
                return reply
        if reply.state is not None and reply.state.step is Step.NETWORKS and form.networks:
            for network in form.networks:
                reply = await self._dialogs.action(user, f"dlg:net:{network}", origin)
                if reply.errors:
                    return reply
            reply = await self._dialogs.action(user, "dlg:networks_done", origin)
        return reply

    async def _save(self, user: UserRef, form: SavedForm) -> None:
        data: dict[str, Any] = {
            "values": form.values,
            "networks": list(form.networks),
            "kept_message": form.kept_message,
        }
        await self._repo.save_dialog(user.key + FORM_KEY_SUFFIX, data)
