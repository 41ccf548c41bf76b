"""Telegram's flood limit through the real python-telegram-bot and Chorus's limiter: the
loopback Telegram refuses more than 30 messages in any second (429 with retry_after);
a bulk send to many supporters arrives whole, each message once, and a person's reply
asked for in the middle goes before the bulk backlog. Order only: the pace itself is
measured by ``benchmarks/tap.py``."""

from __future__ import annotations

import asyncio

from adapters.telegram.outbound import TelegramOutbound
from bot.domain.outgoing import OutgoingMessage
from bot.domain.refs import UserRef
from bot.domain.text import t
from tests.fakes import telegram_builders as tb
from tests.fakes.telegram_api import FakeTelegramApi
from tests.integration.telegram.conftest import STRANGER, Driver, private

SUPPORTERS = 90  # three seconds' worth at 30 a second
FIRST_ID = 700_000


async def test_a_reply_goes_before_the_bulk_backlog_and_no_429_is_lost(
    tg: Driver, api: FakeTelegramApi, outbound: TelegramOutbound
) -> None:
    api.max_per_second = 30
    api.fail_next("sendMessage", match=lambda p: int(p["chat_id"]) == FIRST_ID + 20)
    offer = OutgoingMessage.of(t("telegram.help"))
    since = api.mark()
    bulk = asyncio.gather(
        *(
            outbound.send_to_user(UserRef("telegram", str(FIRST_ID + k), f"S{k}", "en"), offer)
            for k in range(SUPPORTERS)
        )
    )  # not from an update's handler: the bulk lane
    await api.wait_for("sendMessage", lambda c: c.chat_id == FIRST_ID + 10, since=since)

    reply = await tg.say(STRANGER, private(STRANGER), "/help")  # a person asks meanwhile

    sent = await bulk
    assert len(sent) == SUPPORTERS
    accepted = api.find("sendMessage", since=since)
    supporters = [c.chat_id for c in accepted if c.chat_id != STRANGER["id"]]
    assert sorted(supporters) == [FIRST_ID + k for k in range(SUPPORTERS)]  # each once
    refused = [c for c in api.calls[since:] if c.method == "sendMessage" and not c.ok]
    assert refused and all("Too Many Requests" in c.error for c in refused)
    # the reply overtook the backlog: most supporters got theirs after it
    after_reply = accepted[accepted.index(reply) + 1 :]
    assert len(after_reply) >= SUPPORTERS // 2


async def test_a_button_press_is_answered_at_once_during_a_bulk_send(
    tg: Driver, api: FakeTelegramApi, outbound: TelegramOutbound
) -> None:
    api.max_per_second = 30
    offer = OutgoingMessage.of(t("telegram.help"))
    since = api.mark()
    bulk = asyncio.gather(
        *(
            outbound.send_to_user(UserRef("telegram", str(FIRST_ID + k), f"S{k}", "en"), offer)
            for k in range(SUPPORTERS)
        )
    )
    await api.wait_for("sendMessage", lambda c: c.chat_id == FIRST_ID + 10, since=since)
    shown = tb.text_message(1, api.bot, private(STRANGER), "Forget everything?")
    answer = await tg.press_raw(STRANGER, shown, "no-such-button")  # answered with an alert

    await bulk
    later = [c for c in api.calls[api.calls.index(answer) :] if c.method == "sendMessage"]
    assert len(later) >= SUPPORTERS // 2  # answered ahead of the backlog
