"""Telegram channels: the campaign card in a broadcast channel, promoted from the private chat.

A channel has no conversation to type ``/promote`` in (its posts have no author), so an
organiser promotes from their private chat with the bot: ``/promote REF @channel``, or
``/promote REF`` alone for a button list of the remembered channels where both of them are
administrators. Nothing the person types or presses is trusted: every promotion asks the
Bot API whether the bot may post in the channel and whether the person is an
administrator there who may post too. The card then lives there like a group's card: one
per channel, edited as pledges come in, announcements alongside.

The bot learns its channels from ``my_chat_member`` updates: made an administrator who may
post, it remembers the channel; removed or demoted, it forgets it with its cards, so
progress edits stop trying a chat it can no longer write to. ``channel_post`` updates,
commands included, are ignored with a log line: an answer would go to every subscriber.
"""

from __future__ import annotations

import logging
import re

from telegram import Chat, ChatFullInfo, ChatMember, ChatMemberAdministrator, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from adapters.telegram.kit import Context, Kit
from adapters.telegram.refs import PLATFORM, chat_ref
from bot.domain.campaign import Campaign, CampaignStatus
from bot.domain.channels import KnownChannel
from bot.domain.errors import DomainError, NotAllowed
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import t

log = logging.getLogger(__name__)

PROMOTE_ACTION = "chpromote"  # callback data "chpromote:<REF>:<channel id>", under 64 bytes
_PRESS = re.compile(rf"^{PROMOTE_ACTION}:([A-Za-z0-9]{{1,16}}):(-100\d{{1,16}})$")
_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")  # Telegram's public names
_CHANNEL_ID = re.compile(r"^-100\d{1,16}$")
MAX_LISTED = 10  # channels checked live for one list: two Bot API calls each


def channel_name(chat: Chat | ChatFullInfo | KnownChannel) -> str:
    """How a person knows the channel: its public @name, else its title."""
    if isinstance(chat, KnownChannel):
        return f"@{chat.username}" if chat.username else chat.title
    return f"@{chat.username}" if chat.username else (chat.title or str(chat.id))


def may_post(member: ChatMember) -> bool:
    """Creator, or an administrator with the right to post in the channel."""
    if member.status == ChatMemberStatus.OWNER:
        return True
    return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)


class ChannelHandlers:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.services = kit.services

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        """Registered before the group handlers: ``/promote`` in a private chat is theirs."""
        guard = self.kit.guarded
        private_message = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        return [
            CommandHandler("promote", guard(self.promote), filters=private_message),
            CallbackQueryHandler(guard(self.press), pattern=rf"^{PROMOTE_ACTION}:"),
            ChatMemberHandler(self.membership, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(filters.UpdateType.CHANNEL_POSTS, self.channel_post),
        ]

    # --- /promote in the private chat ------------------------------------------------

    async def promote(self, update: Update, context: Context) -> None:
        args = self.kit.args(context)
        if len(args) not in (1, 2):
            await self.kit.reply(update, t("telegram.channel.usage"))
            return
        campaign = await self._live(args[0])
        if len(args) == 1:
            await self._offer(update, context, campaign)
            return
        name = args[1]
        if not (_USERNAME.match(name) or _CHANNEL_ID.match(name)):
            raise DomainError("telegram.channel.bad_name", name=name[:64])
        try:
            chat = await context.bot.get_chat(name)
        except (BadRequest, Forbidden):
            raise DomainError("telegram.channel.unknown", name=name, ref=campaign.ref) from None
        await self._promote_in(update, context, campaign, chat)

    async def press(self, update: Update, context: Context) -> None:
        """A channel picked from the list; forged or replayed presses are checked anew."""
        query = update.callback_query
        assert query is not None
        match = _PRESS.match(str(query.data or ""))
        if match is None:
            language = self.kit.language(update)
            await self.kit.answer(query, t("telegram.unknown_button"), language, alert=True)
            return
        campaign = await self._live(match.group(1))
        try:
            chat = await context.bot.get_chat(int(match.group(2)))
        except (BadRequest, Forbidden):
            raise DomainError(
                "telegram.channel.unknown", name=match.group(2), ref=campaign.ref
            ) from None
        await self._promote_in(update, context, campaign, chat)
        await self.kit.answer(query)

    async def _live(self, ref: str) -> Campaign:
        campaign = await self.services.campaigns.get(ref)
        if campaign.status is not CampaignStatus.LIVE:
            raise DomainError(
                "promote.not_live", ref=campaign.ref, status=t(f"status.{campaign.status.value}")
            )
        return campaign

    async def _promote_in(
        self, update: Update, context: Context, campaign: Campaign, chat: ChatFullInfo
    ) -> None:
        name = channel_name(chat)
        if chat.type != ChatType.CHANNEL:
            raise DomainError("telegram.channel.not_a_channel", name=name, ref=campaign.ref)
        assert update.effective_user is not None
        await self._check_rights(context, chat, update.effective_user.id)
        await self.services.channels.remember(
            chat_ref(chat.id), chat.title or name, chat.username or ""
        )
        requester = self.kit.user(update)
        try:
            await self.services.campaigns.promote(
                campaign.ref,
                chat_ref(chat.id),
                requester,
                requester_is_admin=True,  # checked just now, with the Bot API
                language=requester.language,
            )
        except DomainError as exc:
            if exc.key != "promote.send_failed":
                raise
            # rights taken away since the check: say so about the channel, not "this chat"
            raise DomainError("telegram.channel.bot_not_admin", name=name) from None
        await self.kit.reply(update, t("telegram.channel.done", ref=campaign.ref, name=name))

    async def _check_rights(self, context: Context, chat: ChatFullInfo, user_id: int) -> None:
        """Refuse unless the bot may post in ``chat`` and ``user_id`` may too."""
        name = channel_name(chat)
        try:
            bot_member = await context.bot.get_chat_member(chat.id, context.bot.id)
        except (BadRequest, Forbidden):
            bot_member = None
        if bot_member is None or not may_post(bot_member):
            await self.services.channels.forget(chat_ref(chat.id))  # stale, if it was known
            raise DomainError("telegram.channel.bot_not_admin", name=name)
        try:
            member = await context.bot.get_chat_member(chat.id, user_id)
        except (BadRequest, Forbidden):
            member = None
        if member is None or not may_post(member):
            raise NotAllowed("telegram.channel.not_admin", name=name)

    async def _offer(self, update: Update, context: Context, campaign: Campaign) -> None:
        """The remembered channels where both may post, checked live, as buttons."""
        assert update.effective_user is not None
        rows: list[tuple[Button, ...]] = []
        for known in (await self.services.channels.known(PLATFORM))[:MAX_LISTED]:
            try:
                chat = await context.bot.get_chat(int(known.chat.id))
                await self._check_rights(context, chat, update.effective_user.id)
            except (DomainError, BadRequest, Forbidden):
                continue
            action = f"{PROMOTE_ACTION}:{campaign.ref}:{chat.id}"
            rows.append((Button(t("telegram.channel.button", name=channel_name(chat)), action),))
        if not rows:
            await self.kit.reply(update, t("telegram.channel.none_known", ref=campaign.ref))
            return
        message = OutgoingMessage.of(
            t("telegram.channel.pick", ref=campaign.ref), buttons=tuple(rows)
        )
        await self.kit.reply(update, message)

    # --- what happens in channels ----------------------------------------------------

    async def membership(self, update: Update, context: Context) -> None:
        """The bot's own rights changed in a chat: remember or forget a channel."""
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.CHANNEL:
            return
        chat = change.chat
        try:
            if may_post(change.new_chat_member):
                await self.services.channels.remember(
                    chat_ref(chat.id), chat.title or str(chat.id), chat.username or ""
                )
                log.info("may post in channel %s now", chat.id)
            else:
                await self.services.channels.forget(chat_ref(chat.id))
        except Exception:  # never answered in the channel: a log line is all there is
            log.exception("tracking the bot's rights in channel %s failed", chat.id)

    async def channel_post(self, update: Update, context: Context) -> None:
        """Posts in a channel are the channel's own; commands there get no answer (every
        subscriber would read it, and a post has no author whose rights could be checked)."""
        post = update.channel_post or update.edited_channel_post
        if post is not None and (post.text or "").startswith("/"):
            log.info(
                "ignored a command posted in channel %s; promote from the private chat",
                post.chat.id,
            )
