"""Telegram channels, through python-telegram-bot against the wire fake: an organiser who
administers a channel promotes to it from the private chat (by name or from a button list),
every right checked with the Bot API; strangers, a bot without posting rights, unknown names
and campaigns not live are refused; the bot remembers and forgets channels from
``my_chat_member`` updates; channel posts get no answer; the channel card follows progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from adapters.telegram.channels import PROMOTE_ACTION
from adapters.telegram.refs import PLATFORM, chat_ref
from bot.app import Chorus
from bot.domain.cards import CardKind
from bot.domain.text import t
from bot.i18n import render
from bot.testing.clock import FakeClock
from tests.fakes import telegram_builders as tb
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import (
    GROUP,
    ORGANISER,
    STRANGER,
    SUPPORTER,
    Driver,
    callbacks,
    live_campaign,
    pledge_token,
    private,
    sandbox_profile,
    urls,
    waiting_campaign,
)

CHANNEL = tb.channel_chat(-100500, "River news", "rivernews")
SECRET = tb.channel_chat(-100600, "Secret digest")  # private: no public name
OTHER = tb.channel_chat(-100700, "Other news", "othernews")


class LogWaiter(logging.Handler):
    """Waits for what the bot logs about updates it does not answer (membership changes,
    channel posts): the only sign, outside the database, that it has acted on them."""

    LOGGERS = ("adapters.telegram.channels", "bot.services.channels")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self._changed.set()

    async def wait_for(self, fragment: str) -> None:
        async with asyncio.timeout(10):
            while not any(fragment in line for line in self.lines):
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def logs() -> Iterator[LogWaiter]:
    waiter = LogWaiter()
    loggers = [logging.getLogger(name) for name in LogWaiter.LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(waiter)
        logger.setLevel(logging.INFO)
    try:
        yield waiter
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(waiter)
            logger.setLevel(level)


async def known_ids(core: Chorus) -> set[str]:
    return {c.chat.id for c in await core.chat.channels.known(PLATFORM)}


async def set_bot(
    api: FakeTelegramApi, logs: LogWaiter, channel: dict, status: str, *, can_post: bool = True
) -> None:
    """The organiser changes the bot's rights in ``channel``; wait until the bot acted."""
    since = len(logs.lines)
    api.set_bot_status(channel, status, by=ORGANISER, can_post=can_post)
    may = status == "administrator" and can_post
    fragment = f"may post in channel {channel['id']}" if may else f"{channel['id']} forgotten"
    del logs.lines[:since]
    await logs.wait_for(fragment)


async def add_bot(
    api: FakeTelegramApi, logs: LogWaiter, channel: dict, *, can_post: bool = True
) -> None:
    await set_bot(api, logs, channel, "administrator", can_post=can_post)


@pytest.fixture
def channels(api: FakeTelegramApi) -> None:
    for channel in (CHANNEL, SECRET, OTHER):
        api.add_channel(channel)
    api.make_admin(CHANNEL["id"], ORGANISER["id"], owner=True)
    api.make_admin(SECRET["id"], ORGANISER["id"])


def sent_to(api: FakeTelegramApi, chat: dict, since: int = 0) -> list:
    return [c for c in api.calls[since:] if c.chat_id == chat["id"] and c.method == "sendMessage"]


async def test_an_admin_organiser_promotes_by_name_and_the_card_follows_progress(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    await add_bot(api, logs, CHANNEL)
    campaign = await live_campaign(core, clock)

    done = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} @RiverNews")
    assert done.text == render(
        t("telegram.channel.done", ref=campaign.ref, name="@rivernews"), "en"
    )
    [card_call] = sent_to(api, CHANNEL)
    assert "Clean rivers now" in card_call.text and "0 / 4 supporters" in card_call.text
    assert urls(card_call)  # the Support button: a deep link into the private chat
    card = api.message(card_call)
    assert card["sender_chat"]["id"] == CHANNEL["id"] and "from" not in card
    [stored] = await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION)
    assert stored.message.chat == chat_ref(CHANNEL["id"])

    # one card per channel: promoting again replaces it
    again = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} -100500")
    assert again.text == done.text
    assert [m["message_id"] for m in api.messages_in(CHANNEL["id"])] == [2]

    # a pledge: the channel's card is edited
    since = api.mark()
    token = pledge_token(await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}"))
    await core.pledges.record(core.links.read(token), sandbox_profile())
    edit = await api.wait_for("editMessageText", lambda c: c.chat_id == CHANNEL["id"], since=since)
    assert "1 / 4 supporters" in edit.text
    milestone = await api.wait_for(
        "sendMessage", lambda c: c.chat_id == CHANNEL["id"], since=since
    )
    assert "25%" in milestone.text  # announcements go to the channel, as to a group


async def test_rights_lost_between_the_check_and_the_post_are_explained(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    await add_bot(api, logs, CHANNEL)
    campaign = await live_campaign(core, clock)
    api.fail_next(
        "sendMessage",
        code=400,
        description="Bad Request: need administrator rights in the channel chat",
        match=lambda params: params.get("chat_id") == CHANNEL["id"],
    )
    answer = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} @rivernews")
    assert answer.text == render(t("telegram.channel.bot_not_admin", name="@rivernews"), "en")
    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == []


async def test_a_non_admin_is_refused_and_nothing_is_posted(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    await add_bot(api, logs, CHANNEL)
    campaign = await live_campaign(core, clock)
    refusal = render(t("telegram.channel.not_admin", name="@rivernews"), "en")

    answer = await tg.say(STRANGER, private(STRANGER), f"/promote {campaign.ref} @rivernews")
    assert answer.text == refusal
    api.members[(CHANNEL["id"], STRANGER["id"])] = "member"  # a subscriber is not enough
    answer = await tg.say(STRANGER, private(STRANGER), f"/promote {campaign.ref} @rivernews")
    assert answer.text == refusal
    api.make_admin(CHANNEL["id"], STRANGER["id"], can_post=False)  # an admin who may not post
    answer = await tg.say(STRANGER, private(STRANGER), f"/promote {campaign.ref} @rivernews")
    assert answer.text == refusal

    assert sent_to(api, CHANNEL) == []
    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == []


async def test_the_bot_must_be_an_admin_who_may_post(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    campaign = await live_campaign(core, clock)
    refusal = render(t("telegram.channel.bot_not_admin", name="@rivernews"), "en")

    not_in = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} @rivernews")
    assert not_in.text == refusal

    await add_bot(api, logs, CHANNEL, can_post=False)  # an admin without the right to post
    no_post = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} @rivernews")
    assert no_post.text == refusal
    assert sent_to(api, CHANNEL) == []
    assert await known_ids(core) == set()


@pytest.mark.parametrize(
    ("target", "key", "params"),
    [
        ("@nosuchchannel", "telegram.channel.unknown", {"name": "@nosuchchannel"}),
        ("-100600", "telegram.channel.unknown", {"name": "-100600"}),  # private, bot not in it
        ("rivernews", "telegram.channel.bad_name", {"name": "rivernews"}),
        ("@a", "telegram.channel.bad_name", {"name": "@a"}),
        (
            "https://evil.example/x",
            "telegram.channel.bad_name",
            {"name": "https://evil.example/x"},
        ),
        ("-100300", "telegram.channel.not_a_channel", {"name": "Climate friends"}),
    ],
)
async def test_bad_channel_names_get_a_clear_answer(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    target: str,
    key: str,
    params: dict,
) -> None:
    api.chats[GROUP["id"]] = GROUP
    campaign = await live_campaign(core, clock)
    answer = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} {target}")
    assert answer.text == render(t(key, ref=campaign.ref, **params), "en")


async def test_usage_and_campaigns_that_are_not_live(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    await add_bot(api, logs, CHANNEL)
    chat = private(ORGANISER)
    usage = render(t("telegram.channel.usage"), "en")
    assert (await tg.say(ORGANISER, chat, "/promote")).text == usage
    assert (await tg.say(ORGANISER, chat, "/promote A B C")).text == usage
    unknown = await tg.say(ORGANISER, chat, "/promote ZZZZZZ @rivernews")
    assert unknown.text == render(t("campaign.not_found", ref="ZZZZZZ"), "en")

    waiting = await waiting_campaign(core, clock)
    refused = await tg.say(ORGANISER, chat, f"/promote {waiting.ref} @rivernews")
    assert refused.text == render(
        t("promote.not_live", ref=waiting.ref, status=t("status.pending_review")), "en"
    )
    assert sent_to(api, CHANNEL) == []


async def test_the_button_list_shows_channels_where_both_may_post_and_rechecks_presses(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    campaign = await live_campaign(core, clock)
    none = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref}")
    assert none.text == render(t("telegram.channel.none_known", ref=campaign.ref), "en")

    for channel in (CHANNEL, SECRET, OTHER):  # the organiser administers the first two
        await add_bot(api, logs, channel)
    listing = await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref}")
    assert listing.text == render(t("telegram.channel.pick", ref=campaign.ref), "en")
    assert [b["text"] for b in listing.buttons] == ["📣 @rivernews", "📣 Secret digest"]
    data = callbacks(listing)
    assert data == [
        f"{PROMOTE_ACTION}:{campaign.ref}:-100500",
        f"{PROMOTE_ACTION}:{campaign.ref}:-100600",
    ]
    assert all(len(d.encode()) <= 64 for d in data)

    # a stranger forging the press for a channel they do not administer
    theirs = (await tg.say(STRANGER, private(STRANGER), "/help")).result
    forged = await tg.press_raw(STRANGER, theirs, data[1])
    assert forged.params["show_alert"] is True
    assert forged.params["text"] == render(
        t("telegram.channel.not_admin", name="Secret digest"), "en"
    )
    other = await tg.press_raw(
        ORGANISER, listing.result, f"{PROMOTE_ACTION}:{campaign.ref}:-100700"
    )
    assert other.params["text"] == render(t("telegram.channel.not_admin", name="@othernews"), "en")
    junk = await tg.press_raw(ORGANISER, listing.result, f"{PROMOTE_ACTION}:x:y:z")
    assert junk.params["text"] == render(t("telegram.unknown_button"), "en")
    assert sent_to(api, SECRET) == [] and sent_to(api, OTHER) == []

    # the organiser presses: posted in the private channel
    since = api.mark()
    await tg.press(ORGANISER, listing.result, data[1])
    told = await api.wait_for("sendMessage", lambda c: c.chat_id == ORGANISER["id"], since=since)
    assert told.text == render(
        t("telegram.channel.done", ref=campaign.ref, name="Secret digest"), "en"
    )
    assert len(sent_to(api, SECRET, since)) == 1

    # a replayed press after the organiser lost their rights is refused
    api.members[(SECRET["id"], ORGANISER["id"])] = "member"
    replay = await tg.press_raw(ORGANISER, listing.result, data[1])
    assert replay.params["text"] == render(
        t("telegram.channel.not_admin", name="Secret digest"), "en"
    )
    assert len(sent_to(api, SECRET, since)) == 1


async def test_removed_or_demoted_the_bot_forgets_the_channel_and_its_cards(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    await add_bot(api, logs, CHANNEL)
    await add_bot(api, logs, SECRET)
    campaign = await live_campaign(core, clock)
    await tg.say(ORGANISER, private(ORGANISER), f"/promote {campaign.ref} @rivernews")
    assert len(await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION)) == 1

    await set_bot(api, logs, CHANNEL, "kicked")
    assert (
        await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == []
    )  # no edits to a chat lost
    await set_bot(api, logs, SECRET, "administrator", can_post=False)  # demoted
    assert await known_ids(core) == set()

    since = api.mark()
    token = pledge_token(await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}"))
    await core.pledges.record(core.links.read(token), sandbox_profile())
    await core.cards.flush()
    assert [c for c in api.calls[since:] if c.chat_id == CHANNEL["id"]] == []

    # a group membership change is not a channel's: nothing is remembered
    api.set_bot_status(GROUP, "administrator", by=ORGANISER)
    await tg.settle(ORGANISER)
    assert await known_ids(core) == set()


async def test_channel_posts_get_no_answer(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    channels: None,
    logs: LogWaiter,
) -> None:
    await add_bot(api, logs, CHANNEL)
    campaign = await live_campaign(core, clock)
    since = api.mark()
    api.post_in_channel(CHANNEL, "Good morning, river friends")
    api.post_in_channel(CHANNEL, f"/promote {campaign.ref}")  # typed as the channel
    await logs.wait_for(f"ignored a command posted in channel {CHANNEL['id']}")
    await tg.settle(ORGANISER)
    assert [c for c in api.calls[since:] if c.chat_id == CHANNEL["id"]] == []
    assert await core.repo.cards_of(campaign.id or 0, CardKind.PROMOTION) == []
