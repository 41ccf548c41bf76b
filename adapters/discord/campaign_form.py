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

from collections.abc import Iterable
from dataclasses import replace
from zoneinfo import ZoneInfo

from adapters.discord.modals import FORM_FIELDS
from bot.dialog import ACTION_PREFIX, DialogReply, FormAnswers, Step
from bot.domain.refs import ChatRef, UserRef
from bot.domain.variants import Variant, parse_variant_blocks
from bot.services.dialogs import DialogService

PICTURE_KEPT = "picture"  # the draft's picture key, kept with the form's values
STORY_KEPT = "story"  # the draft's story (its own form, StoryModal), kept the same way
KEPT = (PICTURE_KEPT, STORY_KEPT)  # never taken from the campaign form's submission


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
        if state.variants:
            values["variants"] = variant_blocks(state.variants)
        else:
            values.pop("variants", None)
        if state.goal is not None:
            values["goal"] = str(state.goal)
        if state.launch_at is not None:
            values["launch"] = f"{state.launch_at.astimezone(self._tz):%Y-%m-%d %H:%M}"
        # not fields of this form: the edited draft keeps its story and picture, or their
        # lack (the story is changed with its own form, the picture with /campaignpicture)
        values[STORY_KEPT] = state.story or ""
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
        values = {k: v for k, v in values.items() if k not in KEPT}  # never from this form
        for name in KEPT:
            if previous and keep_networks and name in previous.values:
                values[name] = previous.values[name]
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
            if name == "variants":
                reply = await self._feed_variants(user, form.values.get(name, ""), origin)
                if reply.errors or reply.state is None:
                    return reply
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
        """At the story and picture steps, keep what the draft had before an edit (a story
        or a picture, or none); a new draft stops at the story step (its own form)."""
        if form is None:
            form = await self.saved(user)
        if form is None or reply.state is None or reply.errors:
            return reply
        story = form.values.get(STORY_KEPT)
        if story is not None and reply.state.step is Step.STORY:
            if story.strip():
                reply = await self._dialogs.text(user, story, origin)
            else:  # the draft had none: it was skipped before
                reply = await self._dialogs.action(user, f"{ACTION_PREFIX}skip", origin)
        kept = form.values.get(PICTURE_KEPT)
        at_picture = reply.state is not None and reply.state.step is Step.PICTURE
        if kept is not None and at_picture and not reply.errors:
            if kept:
                reply = await self._dialogs.reuse_picture(user, kept, origin)
            else:  # the draft had none: it was skipped before
                reply = await self._dialogs.action(user, f"{ACTION_PREFIX}skip", origin)
        return reply

    async def _feed_variants(
        self, user: UserRef, typed: str, origin: ChatRef | None
    ) -> DialogReply:
        """The variants field: one wording per blank-line-separated block, then Done."""
        for variant in parse_variant_blocks(typed):
            shown = f"{variant.language}: {variant.text}" if variant.language else variant.text
            reply = await self._dialogs.text(user, shown, origin)
            if reply.errors or reply.state is None:
                return reply
        return await self._dialogs.action(user, "dlg:variants_done", origin)


def variant_blocks(variants: Iterable[Variant]) -> str:
    """Variants as the form's field shows them: blocks separated by a blank line."""
    return "\n\n".join(f"{v.language}: {v.text}" if v.language else v.text for v in variants)
