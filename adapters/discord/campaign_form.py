"""The /newcampaign modal fed through the core dialog, one field after another.

Discord asks every question at once in a form, while the core dialog asks them one by
one; this module bridges the two without any rule of its own: it begins the dialog,
feeds each field as typed text and stops at the first refusal, or at the warning about
a message without a hashtag until the organiser keeps it (then goes on with the rest of
the form). The raw form (the networks already chosen, the message kept without a
hashtag) is kept with the dialog's own state (``FormAnswers``) so "Fix" and "Edit" reopen
the form prefilled, and resubmitting does not ask again about the same message, even
after a restart.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from adapters.discord.modals import FORM_FIELDS
from bot.dialog import ACTION_PREFIX, DialogReply, FormAnswers, Step
from bot.domain.refs import ChatRef, UserRef
from bot.services.dialogs import DialogService

PICTURE_KEPT = "picture"  # the draft's picture key, kept with the form's values


class CampaignForm:
    def __init__(self, dialogs: DialogService, tz: ZoneInfo) -> None:
        self._dialogs = dialogs
        self._tz = tz

    async def saved(self, user: UserRef) -> FormAnswers | None:
        state = await self._dialogs.current(user)
        return None if state is None else state.form

    async def for_edit(self, user: UserRef) -> FormAnswers | None:
        """The current draft as form values, remembering its networks; None if no draft."""
        state = await self._dialogs.current(user)
        if state is None:
            return None
        saved = state.form
        values = dict(saved.values) if saved else {}
        if state.title is not None:
            values["title"] = state.title
        if state.message is not None:
            values["message"] = state.message
        if state.goal is not None:
            values["goal"] = str(state.goal)
        if state.launch_at is not None:
            values["launch"] = f"{state.launch_at.astimezone(self._tz):%Y-%m-%d %H:%M}"
        values["story"] = state.story or ""
        # not a form field: the edited draft keeps its picture, or its lack of one
        values[PICTURE_KEPT] = state.picture or ""
        form = FormAnswers(
            values, tuple(str(n) for n in state.networks), saved.kept_message if saved else None
        )
        await self._dialogs.remember_form(user, form)
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
        values = {k: v for k, v in values.items() if k != PICTURE_KEPT}  # never from a form
        if previous and keep_networks and PICTURE_KEPT in previous.values:
            values[PICTURE_KEPT] = previous.values[PICTURE_KEPT]
        form = FormAnswers(values, networks, kept)
        return await self._feed(user, form, await self._dialogs.begin(user, form), origin)

    async def keep_message(self, user: UserRef, origin: ChatRef | None) -> DialogReply:
        """The organiser keeps the message without a hashtag: go on with the rest of the form."""
        reply = await self._dialogs.action(user, "dlg:keep_message", origin)
        saved = await self.saved(user)
        if saved is None or reply.errors or reply.state is None:
            return reply
        form = replace(saved, kept_message=saved.values.get("message", ""))
        await self._dialogs.remember_form(user, form)
        return await self._feed(user, form, reply, origin)

    async def _feed(
        self, user: UserRef, form: FormAnswers, reply: DialogReply, origin: ChatRef | None
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
        return await self.extras(user, reply, origin, form)

    async def extras(
        self,
        user: UserRef,
        reply: DialogReply,
        origin: ChatRef | None,
        form: FormAnswers | None = None,
    ) -> DialogReply:
        """At the story step, answer it from the form (skip it when left empty); at the
        picture step, keep what the draft had before an edit (a picture, or none)."""
        if form is None:
            form = await self.saved(user)
        if form is None or reply.state is None or reply.errors:
            return reply
        if reply.state.step is Step.STORY:
            story = form.values.get("story", "").strip()
            if story:
                reply = await self._dialogs.text(user, story, origin)
            else:
                reply = await self._dialogs.action(user, f"{ACTION_PREFIX}skip", origin)
        kept = form.values.get(PICTURE_KEPT)
        at_picture = reply.state is not None and reply.state.step is Step.PICTURE
        if kept is not None and at_picture and not reply.errors:
            if kept:
                reply = await self._dialogs.reuse_picture(user, kept, origin)
            else:  # the draft had none: it was skipped before
                reply = await self._dialogs.action(user, f"{ACTION_PREFIX}skip", origin)
        return reply
