"""Telegram inline mode through python-telegram-bot and the wire fake: ``@bot REF`` or words
of a title offer live campaigns' cards; a card placed is kept current through its
``inline_message_id``, forgotten once Telegram no longer knows it, and bounded per campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import BadRequest
from telegram.ext import Application

from adapters.telegram.inbound import ALLOWED_UPDATES
from adapters.telegram.refs import inline_message_ref
from bot.app import Chorus
from bot.domain.campaign import Campaign
from bot.domain.cards import CardKind, PostedCard
from bot.services.shared_cards import SharedCards
from bot.testing.clock import FakeClock
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramApi
from tests.integration.telegram.conftest import (
    FRENCH,
    MODERATOR,
    STRANGER,
    SUPPORTER,
    Driver,
    live_campaign,
    pledge_token,
    private,
    ref_of,
    sandbox_profile,
    waiting_campaign,
)

JSON = dict


async def ask(api: FakeTelegramApi, person: JSON, query: str) -> JSON:
    """``person`` types ``@bot query``; the bot's answer (its parameters)."""
    since = api.mark()
    query_id = api.inline_query(person, query)
    await api.wait_for(
        "answerInlineQuery", lambda c: c.params["inline_query_id"] == query_id, since=since
    )
    return {**api.inline_answers[query_id], "query_id": query_id}


def ids(answer: JSON) -> list[str]:
    return [result["id"] for result in answer["results"]]


async def place(tg: Driver, person: JSON, campaign: Campaign) -> str:
    """``person`` looks the campaign up and sends its card; it is stored once this returns."""
    answer = await ask(tg.api, person, campaign.ref)
    inline_message_id = tg.api.choose(person, answer["query_id"], campaign.ref)
    await tg.settle(person)  # the chosen result is handled before a later /help
    return inline_message_id


async def pledge(tg: Driver, campaign: Campaign) -> None:
    """A supporter pledges through the deep link and the pledge page; cards refreshed."""
    intro = await tg.say(SUPPORTER, private(SUPPORTER), f"/start {campaign.ref}")
    await tg.core.pledges.record(tg.core.links.read(pledge_token(intro)), sandbox_profile())
    await tg.core.cards.flush()


def test_allowed_updates_include_inline_mode() -> None:
    assert "inline_query" in ALLOWED_UPDATES
    assert "chosen_inline_result" in ALLOWED_UPDATES


async def test_a_reference_offers_that_card_with_its_support_link(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    await live_campaign(core, clock, title="Quiet streets at night")

    answer = await ask(api, STRANGER, campaign.ref.lower())

    assert ids(answer) == [campaign.ref]
    (article,) = answer["results"]
    assert article["type"] == "article"
    assert article["title"] == "Clean rivers now"
    assert "0 / 4 supporters" in article["description"]
    text = article["input_message_content"]["message_text"]
    assert "Clean rivers now" in text and "0 / 4 supporters" in text
    assert article["reply_markup"]["inline_keyboard"] == [
        [{"text": "Support", "url": f"https://t.me/{BOT_USERNAME}?start={campaign.ref}"}]
    ]
    assert answer["is_personal"] is True
    assert 0 < answer["cache_time"] <= 60


async def test_words_of_a_title_find_it_in_the_askers_language(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    rivers = await live_campaign(core, clock)
    streets = await live_campaign(core, clock, title="Quiet streets at night")

    assert ids(await ask(api, STRANGER, "RIVERS clean")) == [rivers.ref]
    assert ids(await ask(api, STRANGER, "night")) == [streets.ref]
    assert ids(await ask(api, STRANGER, "rivers night")) == []
    assert ids(await ask(api, STRANGER, "nothing like it")) == []
    (french,) = (await ask(api, FRENCH, "rivers"))["results"]
    assert french["reply_markup"]["inline_keyboard"][0][0]["text"] == "Soutenir"


async def test_an_empty_query_offers_the_campaigns_launching_soonest(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    first = await live_campaign(core, clock)
    clock.advance(timedelta(hours=1))
    second = await live_campaign(core, clock, title="Quiet streets at night")

    assert ids(await ask(api, STRANGER, "")) == [first.ref, second.ref]


async def test_campaigns_not_live_are_never_offered(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    pending = await waiting_campaign(core, clock, "Clean rivers pending")
    rejected = await waiting_campaign(core, clock, "Clean rivers rejected")
    assert rejected.id is not None
    await core.moderation.reject(rejected.id, ref_of(MODERATOR), "off topic", may_moderate=True)
    live = await live_campaign(core, clock)

    assert ids(await ask(api, STRANGER, pending.ref)) == []
    assert ids(await ask(api, STRANGER, rejected.ref)) == []
    assert ids(await ask(api, STRANGER, "clean rivers")) == [live.ref]
    assert ids(await ask(api, STRANGER, "")) == [live.ref]


async def test_a_placed_card_follows_the_pledges_by_its_inline_message_id(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    inline_message_id = await place(tg, STRANGER, campaign)
    assert campaign.id is not None
    (card,) = await core.repo.cards_of(campaign.id, CardKind.SHARED)
    assert card.message.id == inline_message_id and card.language == "en"
    assert await core.repo.cards_of(campaign.id, CardKind.PROMOTION) == []  # no chat to announce

    since = api.mark()
    await pledge(tg, campaign)

    edit = await api.wait_for(
        "editMessageText",
        lambda c: c.params.get("inline_message_id") == inline_message_id,
        since=since,
    )
    assert "chat_id" not in edit.params and "message_id" not in edit.params
    assert "1 / 4 supporters · reach 150" in edit.text
    assert api.inline_messages[inline_message_id]["text"] == edit.text
    assert edit.buttons == [
        {"text": "Support", "url": f"https://t.me/{BOT_USERNAME}?start={campaign.ref}"}
    ]


async def test_a_card_telegram_no_longer_knows_is_forgotten(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    gone = await place(tg, STRANGER, campaign)
    kept = await place(tg, SUPPORTER, campaign)
    api.delete_inline(gone)

    since = api.mark()
    await pledge(tg, campaign)

    refused = [c for c in api.calls[since:] if c.params.get("inline_message_id") == gone]
    assert [c.error for c in refused] == ["Bad Request: MESSAGE_ID_INVALID"]
    assert campaign.id is not None
    cards = await core.repo.cards_of(campaign.id, CardKind.SHARED)
    assert [c.message.id for c in cards] == [kept]
    assert "1 / 4" in api.inline_messages[kept]["text"]

    since = api.mark()
    await core.cards.refresh_now(campaign.id)  # no retry of the forgotten one
    assert [c for c in api.calls[since:] if c.params.get("inline_message_id") == gone] == []


async def test_a_card_placed_without_a_keyboard_is_not_tracked(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    answer = await ask(api, STRANGER, campaign.ref)
    answer["results"][0].pop("reply_markup")  # as if Telegram sent it bare
    api.choose(STRANGER, answer["query_id"], campaign.ref)
    await tg.settle(STRANGER)  # the chosen result before it is handled, in order
    assert campaign.id is not None
    assert await core.repo.cards_of(campaign.id, CardKind.SHARED) == []


async def test_only_the_most_recent_placed_cards_are_kept(core: Chorus, clock: FakeClock) -> None:
    campaign = await live_campaign(core, clock)
    assert campaign.id is not None
    shared = SharedCards(core.repo, clock, kept=3)
    for n in range(6):
        clock.advance(timedelta(seconds=1))
        stored = await shared.placed(campaign.ref.lower(), inline_message_ref(f"m{n}"), "en")
        assert isinstance(stored, PostedCard)
    cards = await core.repo.cards_of(campaign.id, CardKind.SHARED)
    assert sorted(c.message.id for c in cards) == ["m3", "m4", "m5"]
    assert await shared.placed("NOPE00", inline_message_ref("x"), "en") is None


async def test_a_lookup_of_too_many_words_offers_nothing(core: Chorus, clock: FakeClock) -> None:
    await live_campaign(core, clock)
    assert await core.chat.shared_cards.offer("clean " * 9) == []
    assert len(await core.chat.shared_cards.offer("clean")) == 1


# --- the fake refuses what Telegram refuses ---------------------------------------------


def article(result_id: str) -> JSON:
    return {
        "type": "article",
        "id": result_id,
        "title": "A",
        "input_message_content": {"message_text": "card"},
    }


@pytest.mark.parametrize(
    ("results", "error"),
    [
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([article("")], "RESULT_ID_INVALID"),
        ([article(str(n)) for n in range(51)], "RESULTS_TOO_MUCH"),
        ([article("a"), article("a")], "RESULT_ID_DUPLICATE"),
        ([{**article("a"), "type": "nonsense"}], "RESULT_TYPE_INVALID"),
        ([{**article("a"), "input_message_content": {}}], "MESSAGE_EMPTY"),
        (
            [{**article("a"), "reply_markup": {"inline_keyboard": [[{"text": "x"}]]}}],
            "can't parse inline keyboard button",
        ),
    ],
)
async def test_the_fake_refuses_bad_inline_answers(
    api: FakeTelegramApi,
    application: Application,  # type: ignore[type-arg]
    results: list[JSON],
    error: str,
) -> None:
    query_id = api.inline_query(STRANGER, "x")
    async with application.bot:
        with pytest.raises(BadRequest, match=f"(?i){error}"):
            await application.bot._post(  # raw results, unchecked by the library
                "answerInlineQuery", {"inline_query_id": query_id, "results": results}
            )


async def test_the_fake_refuses_an_unknown_inline_message(
    api: FakeTelegramApi,
    application: Application,  # type: ignore[type-arg]
) -> None:
    async with application.bot:
        with pytest.raises(BadRequest, match=r"(?i)message_id_invalid"):
            await application.bot.edit_message_text("hello", inline_message_id="nope")


@pytest.mark.parametrize(
    ("description", "forgotten"),
    [
        ("Bad Request: message to edit not found", True),
        ("Bad Request: MESSAGE_ID_INVALID", True),
        ("Bad Request: something else went wrong", False),  # kept: may work next time
    ],
)
async def test_only_a_message_telegram_says_is_gone_is_forgotten(
    tg: Driver,
    api: FakeTelegramApi,
    core: Chorus,
    clock: FakeClock,
    description: str,
    forgotten: bool,
) -> None:
    campaign = await live_campaign(core, clock)
    placed = await place(tg, STRANGER, campaign)
    api.fail_next(
        "editMessageText",
        code=400,
        description=description,
        match=lambda params: params.get("inline_message_id") == placed,
    )
    await pledge(tg, campaign)
    assert campaign.id is not None
    cards = await core.repo.cards_of(campaign.id, CardKind.SHARED)
    assert [c.message.id for c in cards] == ([] if forgotten else [placed])


async def test_an_oversized_inline_message_id_is_not_stored(
    tg: Driver, api: FakeTelegramApi, core: Chorus, clock: FakeClock
) -> None:
    campaign = await live_campaign(core, clock)
    forged = {
        "result_id": campaign.ref,
        "from": STRANGER,
        "query": campaign.ref,
        "inline_message_id": "A" * 257,
    }
    api.inject({"chosen_inline_result": forged})
    await tg.settle(STRANGER)
    assert campaign.id is not None
    assert await core.repo.cards_of(campaign.id, CardKind.SHARED) == []
