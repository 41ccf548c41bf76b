"""What happens when someone uses a slash command, presses a button or submits a form.

Each handler translates the interaction into a call on a core service and renders the
answer; no rule lives here. Every interaction is acknowledged at once (a modal, an
immediate refusal, or a deferral) and answered afterwards, so Discord's 3-second
deadline holds however slow the database is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from adapters.discord.campaign_form import CampaignForm
from adapters.discord.identity import (
    PLATFORM,
    chat_ref,
    community_language,
    is_admin,
    is_moderator,
    language_of,
    user_ref,
)
from adapters.discord.invites import discord_invite
from adapters.discord.modals import (
    CAMPAIGN_MODAL_PREFIX,
    CHANGES_MODAL_PREFIX,
    REJECT_MODAL_PREFIX,
    STORY_MODAL_ID,
    CampaignModal,
    ChangesModal,
    RejectModal,
    StoryModal,
    submitted_values,
)
from adapters.discord.rendering import Renderer
from bot.dialog import ACTION_PREFIX, TEXT_STEPS, DialogReply, Step
from bot.domain.errors import DomainError
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.refs import UserRef
from bot.domain.text import Text, t
from bot.i18n import gettext
from bot.services.campaign_edits import WITHDRAW_ACTION
from bot.services.cards import CHANGES_ACTION, POST_NOW_ACTION
from bot.services.chat_services import ChatServices
from bot.services.recruiter_names import CONSENT_ACTION
from bot.services.sources import ChatSource
from bot.services.updates import MUTE_ACTION, UNMUTE_ACTION
from bot.services.views import (
    FORGET_ACTION,
    FORGET_YES,
    approved,
    campaign_cancelled,
    campaign_list,
    changes_requested,
    forget_confirm,
    forget_kept,
    forgotten,
    pending_list,
    pledge_list,
    rejected,
    unpledged,
)

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[OutgoingMessage]]
ORIGIN_ACTION = "origin"
STORY_ACTION = "story"  # opens the story's own form (StoryModal)


def origin_choice(message: OutgoingMessage, ref: str, *, wanted: bool) -> OutgoingMessage:
    """``message`` with where the card goes once approved, and the button to change it."""
    if wanted:
        note = t("discord.origin.will_post")
        button = Button(t("discord.origin.button_off"), action=f"{ORIGIN_ACTION}:off:{ref}")
    else:
        note = t("discord.origin.wont_post", ref=ref)
        button = Button(t("discord.origin.button_on"), action=f"{ORIGIN_ACTION}:on:{ref}")
    return OutgoingMessage((*message.parts, note), ((button,),))


class InteractionHandlers:
    def __init__(self, services: ChatServices, renderer: Renderer) -> None:
        self.services = services
        self.renderer = renderer
        self.form = CampaignForm(services.dialogs, services.settings.timezone)
        self.default_language = services.settings.default_language

    # ---------------------------------------------------------------- helpers

    def language(self, interaction: discord.Interaction) -> str:
        return language_of(interaction, self.default_language)

    def who(self, interaction: discord.Interaction) -> UserRef:
        return user_ref(interaction.user, self.language(interaction))

    def _translator(self, language: str) -> Callable[[str], str]:
        return lambda key: gettext(key, language)

    async def refuse(self, interaction: discord.Interaction, text: Text) -> None:
        """An immediate ephemeral answer that changes nothing."""
        rendered = self.renderer.as_content(OutgoingMessage.of(text), self.language(interaction))
        if interaction.response.is_done():
            await interaction.followup.send(ephemeral=True, **rendered.send_kwargs())
        else:
            await interaction.response.send_message(ephemeral=True, **rendered.send_kwargs())

    async def deferred(
        self, interaction: discord.Interaction, work: Work, *, update: bool = False
    ) -> None:
        """Acknowledge now, do ``work``, then show its answer (or the reason it failed).

        ``update`` edits the message the pressed button is on; otherwise the answer is a
        new ephemeral message only the caller sees.
        """
        if update:
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            message = await work()
        except DomainError as exc:
            message = OutgoingMessage.of(exc.text)
        except Exception:
            log.exception("interaction %s failed", interaction.id)
            message = OutgoingMessage.of(t("error.internal"))
        rendered = self.renderer.as_content(message, self.language(interaction))
        await interaction.edit_original_response(**rendered.edit_kwargs())

    # --------------------------------------------------------- slash commands

    async def new_campaign(self, interaction: discord.Interaction) -> None:
        await self._open_form(interaction, None, mode="new")

    async def my_campaigns(self, interaction: discord.Interaction) -> None:
        async def work() -> OutgoingMessage:
            rows = await self.services.campaigns.of_organiser(self.who(interaction))
            return campaign_list(rows, self.services.clock.now())

        await self.deferred(interaction, work)

    async def cancel_campaign(self, interaction: discord.Interaction, ref: str) -> None:
        async def work() -> OutgoingMessage:
            campaign = await self.services.campaigns.cancel(ref, self.who(interaction))
            return OutgoingMessage.of(campaign_cancelled(campaign))

        await self.deferred(interaction, work)

    async def send_update(self, interaction: discord.Interaction, ref: str, text: str) -> None:
        """``/update``: the organiser's note to every supporter, privately; the count back."""

        async def work() -> OutgoingMessage:
            return await self.services.updates.send(ref, self.who(interaction), text)

        await self.deferred(interaction, work)

    async def promote(self, interaction: discord.Interaction, ref: str) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            await self.refuse(interaction, t("discord.promote.guild_only"))
            return

        async def work() -> OutgoingMessage:
            chat = chat_ref(interaction.channel_id)
            assert chat is not None
            await self.services.campaigns.promote(
                ref,
                chat,
                self.who(interaction),
                requester_is_admin=is_admin(interaction),
                language=community_language(interaction, self.default_language),
            )
            return OutgoingMessage.of(t("discord.promote.done", ref=ref.strip().upper()))

        await self.deferred(interaction, work)

    async def set_invite(self, interaction: discord.Interaction, ref: str, url: str) -> None:
        """The organiser's server invite for the campaign's public page."""
        invite = discord_invite(url)
        if invite is None:
            await self.refuse(interaction, t("discord.invite.bad_url"))
            return

        async def work() -> OutgoingMessage:
            campaign = await self.services.campaigns.set_invite(
                ref, self.who(interaction), PLATFORM, invite
            )
            return OutgoingMessage.of(t("discord.invite.done", ref=campaign.ref))

        await self.deferred(interaction, work)

    async def my_pledges(self, interaction: discord.Interaction) -> None:
        async def work() -> OutgoingMessage:
            rows = await self.services.pledges.of_supporter(self.who(interaction))
            return pledge_list(rows, include_withdrawn=False)

        await self.deferred(interaction, work)

    async def unpledge(self, interaction: discord.Interaction, ref: str) -> None:
        async def work() -> OutgoingMessage:
            count = await self.services.pledges.unpledge(ref, self.who(interaction))
            return OutgoingMessage.of(unpledged(ref, count))

        await self.deferred(interaction, work)

    async def forget(self, interaction: discord.Interaction) -> None:
        rendered = self.renderer.as_content(forget_confirm(), self.language(interaction))
        await interaction.response.send_message(ephemeral=True, **rendered.send_kwargs())

    async def pending(self, interaction: discord.Interaction) -> None:
        """What waits for moderation, oldest first, with the buttons to decide (ephemeral)."""
        may_moderate = self._may_moderate(interaction)
        if not may_moderate:
            await self.refuse(interaction, t("pending.not_moderator"))
            return

        async def work() -> OutgoingMessage:
            return pending_list(await self.services.moderation.pending(may_moderate=may_moderate))

        await self.deferred(interaction, work)

    async def status(self, interaction: discord.Interaction, ref: str) -> None:
        async def work() -> OutgoingMessage:
            return await self.services.status.status(ref)

        await self.deferred(interaction, work)

    async def edit_campaign(
        self, interaction: discord.Interaction, ref: str, field: str | None, value: str | None
    ) -> None:
        """``/editcampaign``: without a field, what may change; with one, the change."""

        async def work() -> OutgoingMessage:
            edits = self.services.edits
            if not field:
                shown = await edits.show(ref, self.who(interaction))
                return OutgoingMessage((*shown.parts, t("discord.edit.how")))
            return await edits.edit(ref, self.who(interaction), field, value or "")

        await self.deferred(interaction, work)

    async def resubmit(self, interaction: discord.Interaction, ref: str) -> None:
        async def work() -> OutgoingMessage:
            return await self.services.edits.resubmit(ref, self.who(interaction))

        await self.deferred(interaction, work)

    async def help(self, interaction: discord.Interaction) -> None:
        await self.refuse(interaction, t("discord.help.text"))

    # ---------------------------------------------------------------- buttons

    async def on_button(self, interaction: discord.Interaction, action: str) -> None:
        verb, _, argument = action.partition(":")
        if verb == "support":
            await self.deferred(interaction, lambda: self._support(interaction, argument))
        elif verb == POST_NOW_ACTION:
            await self.deferred(interaction, lambda: self._post_now(interaction, argument))
        elif verb in ("approve", "reject", CHANGES_ACTION):
            await self._moderate(interaction, verb, argument)
        elif verb == WITHDRAW_ACTION:
            who = self.who(interaction)
            await self.deferred(interaction, lambda: self.services.edits.withdraw(argument, who))
        elif verb == "dlg" and argument == "edit":
            saved = await self.form.for_edit(self.who(interaction))
            if saved is None:
                await self.refuse(interaction, t("dialog.none_active"))
            else:
                await self._open_form(interaction, saved.values, mode="edit")
        elif verb == "dlg":
            await self.deferred(
                interaction, lambda: self._dialog_action(interaction, action), update=True
            )
        elif verb == STORY_ACTION:
            await self._open_story(interaction)
        elif verb == "form":
            saved = await self.form.saved(self.who(interaction))
            await self._open_form(interaction, saved.values if saved else None, mode="edit")
        elif verb in (MUTE_ACTION, UNMUTE_ACTION):
            updates = self.services.updates
            toggle = updates.mute if verb == MUTE_ACTION else updates.unmute
            await self.deferred(interaction, lambda: toggle(argument, self.who(interaction)))
        elif verb == ORIGIN_ACTION:
            await self.deferred(
                interaction, lambda: self._origin_choice(interaction, argument), update=True
            )
        elif verb == CONSENT_ACTION:
            who = self.who(interaction)
            await self.deferred(
                interaction,
                lambda: self.services.recruiters.toggle_message(argument, who),
                update=True,
            )
        elif verb == FORGET_ACTION:
            await self.deferred(
                interaction, lambda: self._forget(interaction, action), update=True
            )
        else:
            await self.refuse(interaction, t("dialog.stale_button"))

    async def _support(self, interaction: discord.Interaction, ref: str) -> OutgoingMessage:
        """Support on a card: the presser's own link, carrying the card's channel."""
        chat = chat_ref(interaction.channel_id)
        title = str(getattr(interaction.channel, "name", None) or "")
        source = ChatSource(chat, title) if chat is not None else None
        _, message = await self.services.pledges.support(ref, self.who(interaction), source=source)
        return message

    async def _post_now(self, interaction: discord.Interaction, ref: str) -> OutgoingMessage:
        """Post now on a card: the presser's own links, shown to them alone (so a member
        with closed DMs gets them too), or why there are none."""
        person = self.who(interaction)
        answer = await self.services.post_now.press(ref, person)
        if answer.message is None:
            return OutgoingMessage.of(answer.note)
        await self.services.post_now.handed(answer, person)
        return answer.message

    async def _moderation_target(
        self, interaction: discord.Interaction, argument: str
    ) -> int | None:
        """The campaign id a moderator acts on; else refuse (not a moderator, stale id).

        Refused at once, in Discord's words (who counts as a moderator here), before any
        modal opens or the database is asked; the core refuses again on its own.
        """
        if not self._may_moderate(interaction):
            await self.refuse(interaction, t("discord.moderation.not_allowed"))
            return None
        if not argument.isdigit():
            await self.refuse(interaction, t("dialog.stale_button"))
            return None
        return int(argument)

    def _may_moderate(self, interaction: discord.Interaction) -> bool:
        settings = self.services.settings
        return is_moderator(
            interaction, settings.discord_moderator_role_id, settings.discord_moderator_ids
        )

    async def _moderate(self, interaction: discord.Interaction, verb: str, argument: str) -> None:
        campaign_id = await self._moderation_target(interaction, argument)
        if campaign_id is None:
            return
        if verb == "reject":
            translate = self._translator(self.language(interaction))
            await interaction.response.send_modal(RejectModal(translate, campaign_id))
            return
        if verb == CHANGES_ACTION:
            translate = self._translator(self.language(interaction))
            await interaction.response.send_modal(ChangesModal(translate, campaign_id))
            return

        async def approve() -> OutgoingMessage:
            campaign = await self.services.moderation.approve(
                campaign_id, self.who(interaction), may_moderate=self._may_moderate(interaction)
            )
            return OutgoingMessage.of(approved(campaign))

        await self.deferred(interaction, approve)

    async def _dialog_action(
        self, interaction: discord.Interaction, action: str
    ) -> OutgoingMessage:
        user = self.who(interaction)
        origin = chat_ref(interaction.channel_id)
        in_server = interaction.guild_id is not None  # a DM's card goes nowhere by itself
        if action == f"{ACTION_PREFIX}keep_message":
            reply = await self.form.keep_message(user, origin)
        else:
            reply = await self.services.dialogs.action(
                user, action, origin, promote_origin=in_server
            )
            reply = await self.form.extras(user, reply, origin)  # e.g. after the networks
        if reply.campaign_ref is not None and in_server:
            return origin_choice(reply.message, reply.campaign_ref, wanted=True)
        return await self._dialog_message(user, reply)

    async def _origin_choice(
        self, interaction: discord.Interaction, argument: str
    ) -> OutgoingMessage:
        """The organiser changes their mind: post the card here once approved, or not."""
        choice, _, ref = argument.partition(":")
        if choice not in ("on", "off") or not ref:
            return OutgoingMessage.of(t("dialog.stale_button"))
        campaign = await self.services.campaigns.set_origin_promotion(
            ref, self.who(interaction), choice == "on"
        )
        return origin_choice(OutgoingMessage(()), campaign.ref, wanted=campaign.promote_origin)

    async def campaign_picture(
        self, interaction: discord.Interaction, image: discord.Attachment
    ) -> None:
        """``/campaignpicture image``: the picture of the campaign being created (a modal
        takes no file). Fetched from Discord only when the dialog waits for one and the
        size Discord states is allowed; answered with the dialog's next message."""

        async def work() -> OutgoingMessage:
            user = self.who(interaction)
            reply = await self.services.dialogs.picture(
                user, image.read, image.size, chat_ref(interaction.channel_id)
            )
            return await self._dialog_message(user, reply)

        await self.deferred(interaction, work)

    async def _open_story(self, interaction: discord.Interaction) -> None:
        """The story's own form (the campaign form is full), prefilled with the draft's."""
        state = await self.services.dialogs.current(self.who(interaction))
        if state is None or state.step not in (Step.STORY, Step.PREVIEW):
            why = "dialog.none_active" if state is None else "dialog.stale_button"
            await self.refuse(interaction, t(why))
            return
        translate = self._translator(self.language(interaction))
        await interaction.response.send_modal(StoryModal(translate, state.story))

    async def _submit_story(self, interaction: discord.Interaction, story: str) -> OutgoingMessage:
        """The story typed in its form: answers the story step, or changes it from the
        preview; left empty, it is skipped (or removed)."""
        user = self.who(interaction)
        origin = chat_ref(interaction.channel_id)
        dialogs = self.services.dialogs
        state = await dialogs.current(user)
        if state is None:
            return OutgoingMessage.of(t("dialog.none_active"))
        if state.step is Step.PREVIEW:
            await dialogs.action(user, f"{ACTION_PREFIX}edit", origin)
            state = (await dialogs.action(user, f"{ACTION_PREFIX}edit:story", origin)).state
        if state is None or state.step is not Step.STORY:
            return OutgoingMessage.of(t("dialog.stale_button"))
        if story.strip():
            reply = await dialogs.text(user, story, origin)
        else:
            reply = await dialogs.action(user, f"{ACTION_PREFIX}skip", origin)
        reply = await self.form.extras(user, reply, origin)  # a picture kept by an edit
        return await self._dialog_message(user, reply)

    async def _dialog_message(self, user: UserRef, reply: DialogReply) -> OutgoingMessage:
        """The dialog's answer, with Discord's way to fix a refused field: reopen the form."""
        if reply.state is None:  # the form's answers ended with the dialog
            return reply.message
        if reply.state.step is Step.STORY:  # written in its own form, or skipped
            buttons = (
                (
                    Button(t("discord.story.button"), action=STORY_ACTION),
                    Button(t("button.skip"), action=f"{ACTION_PREFIX}skip"),
                    Button(t("button.cancel"), action=f"{ACTION_PREFIX}cancel"),
                ),
            )
            return OutgoingMessage(reply.message.parts, buttons)
        if reply.state.step is Step.PREVIEW:  # the form has no story field: change it here
            story = (Button(t("discord.story.change"), action=STORY_ACTION),)
            return OutgoingMessage(reply.message.parts, (*reply.message.buttons, story))
        if reply.state.step is Step.PICTURE:  # the way to send one on Discord
            return OutgoingMessage(
                (*reply.message.parts, t("discord.picture.hint")), reply.message.buttons
            )
        if reply.state.step is Step.CONFIRM_MESSAGE:  # keep it, or change it in the form
            buttons = (
                (
                    Button(t("button.keep_message"), action=f"{ACTION_PREFIX}keep_message"),
                    Button(t("discord.form.fix"), action="form"),
                    Button(t("button.cancel"), action=f"{ACTION_PREFIX}cancel"),
                ),
            )
            return OutgoingMessage(reply.message.parts, buttons)
        # the variants are typed in the form too: a refused one is fixed there
        fix_needed = reply.errors and reply.state.step in (*TEXT_STEPS, Step.VARIANTS)
        if fix_needed or not reply.message.buttons:
            buttons = (
                (
                    Button(t("discord.form.fix"), action="form"),
                    Button(t("button.cancel"), action="dlg:cancel"),
                ),
            )
            return OutgoingMessage(reply.message.parts, buttons)
        return reply.message

    async def _forget(self, interaction: discord.Interaction, action: str) -> OutgoingMessage:
        if action != FORGET_YES:
            return OutgoingMessage.of(forget_kept())
        erased = await self.services.pledges.forget(self.who(interaction))
        return OutgoingMessage.of(forgotten(erased))

    async def _open_form(
        self, interaction: discord.Interaction, values: dict[str, str] | None, *, mode: str
    ) -> None:
        translate = self._translator(self.language(interaction))
        tz = self.services.settings.timezone.key
        await interaction.response.send_modal(CampaignModal(translate, tz, values, mode=mode))

    # ----------------------------------------------------------------- modals

    async def on_modal(self, interaction: discord.Interaction) -> None:
        data = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        values = submitted_values(data)  # type: ignore[arg-type]
        if custom_id.startswith(CAMPAIGN_MODAL_PREFIX):
            keep_networks = custom_id.removeprefix(CAMPAIGN_MODAL_PREFIX) == "edit"
            await self.deferred(
                interaction, lambda: self._submit_form(interaction, values, keep_networks)
            )
        elif custom_id == STORY_MODAL_ID:
            story = values.get("story", "")
            await self.deferred(interaction, lambda: self._submit_story(interaction, story))
        elif custom_id.startswith(REJECT_MODAL_PREFIX):
            argument = custom_id.removeprefix(REJECT_MODAL_PREFIX)
            await self._reject(interaction, argument, values.get("reason", ""))
        elif custom_id.startswith(CHANGES_MODAL_PREFIX):
            argument = custom_id.removeprefix(CHANGES_MODAL_PREFIX)
            await self._request_changes(interaction, argument, values.get("note", ""))
        else:
            await self.refuse(interaction, t("dialog.stale_button"))

    async def _submit_form(
        self, interaction: discord.Interaction, values: dict[str, str], keep_networks: bool
    ) -> OutgoingMessage:
        user = self.who(interaction)
        reply = await self.form.submit(
            user, values, chat_ref(interaction.channel_id), keep_networks=keep_networks
        )
        return await self._dialog_message(user, reply)

    async def _reject(self, interaction: discord.Interaction, argument: str, reason: str) -> None:
        campaign_id = await self._moderation_target(interaction, argument)
        if campaign_id is None:
            return

        async def reject() -> OutgoingMessage:
            campaign = await self.services.moderation.reject(
                campaign_id,
                self.who(interaction),
                reason,
                may_moderate=self._may_moderate(interaction),
            )
            return OutgoingMessage.of(rejected(campaign))

        await self.deferred(interaction, reject)

    async def _request_changes(
        self, interaction: discord.Interaction, argument: str, note: str
    ) -> None:
        campaign_id = await self._moderation_target(interaction, argument)
        if campaign_id is None:
            return

        async def request() -> OutgoingMessage:
            campaign = await self.services.moderation.request_changes(
                campaign_id,
                self.who(interaction),
                note,
                may_moderate=self._may_moderate(interaction),
            )
            return OutgoingMessage.of(changes_requested(campaign))

        await self.deferred(interaction, request)
