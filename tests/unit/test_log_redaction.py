"""The redactor removes every credential shape the libraries we use print, and nothing else."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.cli import configure_logging
from bot.log_redaction import REDACTED, Redactor

SECRET_KEY = "test-secret-not-real-0123456789abcdef"
BOT_TOKEN = "123456789:AAH-test-token-not-real-0123456789ab"
DISCORD_TOKEN = "MTA0OTk4NzY1NDMyMTIzNDU2Nw.GtestA.test-token-not-real-0123456789abcdef"
PLEDGE = "eyJjIjoiSzdRWDJNIiwicCI6InRlc3QifQ.Z0test.not-real-signature_0123"
COMPRESSED = ".eJyrVkpWslIKCQ5wDPVT0lEqAHJK-not-real.Z0test.not-real-signature_0123"
TAP = "eyJwIjo1LCJ4IjoxNzAwMDAwMDAwfQ.Z0test.not-real-tap_0123"
MANAGE = "m4nage-not-real.0123test"  # a manage link token, in a shape only its path gives away
HOOK_SECRET = "wh-secret-not-real-7Hq2Lx9Pz4Nc8Vb3Mk6"  # TELEGRAM_WEBHOOK_SECRET's shape
HOOK_PATH = "Zk3-not-real_webhook-path-0123456789abcdefgh"  # the path derived from it

# (what a library or our code prints, the secrets in it)
SAMPLES = [
    (  # tweepy at DEBUG
        "Making API request: POST https://api.twitter.com/2/tweets\nParameters: {}\n"
        "Headers: {'User-Agent': 'tweepy', 'Authorization': 'Bearer x-access-0f1e2d3c4b5a6978'}",
        ["x-access-0f1e2d3c4b5a6978"],
    ),
    (
        "send: b'GET /2/users/me HTTP/1.1\\r\\nAuthorization: Bearer mastodon-tok-abc123'",
        ["mastodon-tok-abc123"],
    ),
    (  # urllib3 request line with a query string
        'http://127.0.0.1:5555 "GET /callback?code=c0de-not-real-987&state=st4te-not-real '
        'HTTP/1.1" 302 0',
        ["c0de-not-real-987", "st4te-not-real"],
    ),
    (  # a token form (X revoke, Mastodon token exchange)
        "body: token=x-refresh-0a1b2c3d&token_type_hint=refresh_token&client_secret=cs-not-real"
        "&code_verifier=verifier-not-real-xyz",
        ["x-refresh-0a1b2c3d", "cs-not-real", "verifier-not-real-xyz"],
    ),
    (  # a token response, JSON and repr
        '{"access_token": "at-not-real-111", "refresh_token":"rt-not-real-222", "expires_in": 7}'
        " {'access_token': 'at-not-real-333'}",
        ["at-not-real-111", "rt-not-real-222", "at-not-real-333"],
    ),
    (  # httpx, python-telegram-bot's transport
        f'HTTP Request: POST https://api.telegram.org/bot{BOT_TOKEN}/getUpdates "HTTP/1.1 200 OK"',
        [BOT_TOKEN, BOT_TOKEN.split(":")[1]],
    ),
    (  # python-telegram-bot's own DEBUG line with a pledge button
        "Calling Bot API endpoint `sendMessage` with parameters `{'chat_id': 5, 'text': "
        f"'Pledge: http://127.0.0.1:8080/pledge/{PLEDGE}', 'reply_markup': "
        f"InlineKeyboardMarkup(inline_keyboard=((InlineKeyboardButton(text='Pledge', "
        f"url='http://127.0.0.1:8080/pledge/{PLEDGE}'),),))}}`",
        [PLEDGE],
    ),
    (  # discord.py: a message body with a tap link, and its Authorization header
        f'POST https://discord.com/api/v10/channels/1/messages with {{"content":"Tap: '
        f'https://chorus.example/tap/{TAP}"}} headers {{"Authorization": "Bot {DISCORD_TOKEN}"}}',
        [TAP, DISCORD_TOKEN],
    ),
    (f"a pledge post to /pledge/{PLEDGE}/mastodon", [PLEDGE]),
    (f"a withdrawal from http://127.0.0.1:8080/manage/{MANAGE}/withdraw", [MANAGE]),
    (f"GET /manage/{MANAGE}?done=erased", [MANAGE]),
    (f"the bare token {PLEDGE} in a repr", [PLEDGE]),
    (f"a compressed one {COMPRESSED} too", [COMPRESSED]),
    (f"the key itself: {SECRET_KEY}", [SECRET_KEY]),
    (  # python-telegram-bot's DEBUG line for setWebhook: the path and the header secret
        "Calling Bot API endpoint `setWebhook` with parameters `{'url': "
        f"'https://chorus.example/telegram/{HOOK_PATH}', 'secret_token': '{HOOK_SECRET}', "
        "'drop_pending_updates': False}`",
        [HOOK_PATH, HOOK_SECRET],
    ),
    (f'"secret_token": "{HOOK_SECRET}"', [HOOK_SECRET]),
    (f"POST /telegram/{HOOK_PATH} 403", [HOOK_PATH]),
]


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([SECRET_KEY, None, "", "short"])


@pytest.mark.parametrize(("line", "secrets"), SAMPLES)
def test_every_secret_shape_is_redacted(redactor: Redactor, line: str, secrets: list[str]) -> None:
    redacted = redactor.redact(line)
    for secret in secrets:
        assert secret not in redacted
    assert REDACTED in redacted
    assert redactor.redact(redacted) == redacted  # a second pass (another handler) is a no-op


def test_what_names_the_secret_stays_readable(redactor: Redactor) -> None:
    assert redactor.redact("Authorization: Bearer abc.def") == "Authorization: Bearer [REDACTED]"
    assert redactor.redact("GET /x?code=abc&page=2") == "GET /x?code=[REDACTED]&page=2"
    assert redactor.redact('{"access_token": "abc"}') == '{"access_token": "[REDACTED]"}'
    assert redactor.redact("/bot1234:abc_DEF/getMe") == "/bot[REDACTED]/getMe"
    assert redactor.redact("see /pledge/abc.def/x") == "see /pledge/[REDACTED]/x"


@pytest.mark.parametrize(
    "line",
    [
        "campaign K7QX2M launched: {'mastodon': (3, 0)}",
        "pledge 5 for campaign K7QX2M",
        "X token endpoint refused a refresh_token grant (400)",
        "next_token=abc pagination_token=def status_code=200",
        "dropping an unreadable dialog state of telegram:5",
        "short literals such as 'short' are not blanked out",
        'File "/srv/chorus/adapters/telegram/webhook.py", line 80, in receive',
    ],
)
def test_ordinary_lines_are_left_alone(redactor: Redactor, line: str) -> None:
    assert redactor.redact(line) == line


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    factory, handlers, level = logging.getLogRecordFactory(), root.handlers[:], root.level
    configure_logging("DEBUG", secrets=[SECRET_KEY, BOT_TOKEN], stream=stream)
    try:
        yield stream
    finally:
        logging.setLogRecordFactory(factory)
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_the_cli_set_up_scrubs_messages_tracebacks_and_late_handlers(
    captured: io.StringIO,
) -> None:
    logging.getLogger("tweepy.client").debug(
        "Headers: %s", {"Authorization": "Bearer x-access-late0001"}
    )
    try:
        raise RuntimeError(f"boom with {SECRET_KEY} inside")
    except RuntimeError:
        logging.getLogger("discord.http").exception("request to /pledge/%s failed", PLEDGE)
    late = io.StringIO()  # a handler a library adds after start-up, on its own logger
    own = logging.getLogger("telegram.ext.ExtBot")
    own.addHandler(logging.StreamHandler(late))
    try:
        own.debug("Calling getMe on /bot%s/getMe", BOT_TOKEN)
    finally:
        own.handlers.clear()
    output = captured.getvalue() + late.getvalue()
    for secret in ("x-access-late0001", SECRET_KEY, PLEDGE, BOT_TOKEN):
        assert secret not in output
    assert "RuntimeError: boom with [REDACTED] inside" in output
    assert "Calling getMe on /bot[REDACTED]/getMe" in late.getvalue()
