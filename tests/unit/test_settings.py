"""Settings: defaults, ``.env`` reading, and one clear line for each bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.networks.mastodon import MASTODON
from adapters.networks.sandbox import SANDBOX
from adapters.networks.x import X
from bot.domain.networks import DeliveryMode
from bot.settings import Settings, SettingsError, load_settings
from tests.fakes.networks import registry_of


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the machine running the tests, nor from a real .env."""
    for name in list(os.environ):
        if name.upper() in {field.upper() for field in Settings.model_fields}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.web_host == "127.0.0.1"
    assert settings.web_port == 8080
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.default_timezone == "UTC"
    assert settings.timezone.key == "UTC"
    assert settings.default_language == "en"
    assert settings.min_lead_minutes == 60
    assert settings.resolved_database_url == "sqlite:///data/chorus.sqlite3"
    assert settings.telegram_moderator_ids == []
    assert settings.secret_key is None
    assert not settings.telegram_enabled and not settings.discord_enabled
    assert not settings.x_enabled


def test_delivery_defaults_x_tap_mastodon_auto() -> None:
    settings = load_settings()
    adapters = {network: object() for network in (X, MASTODON, SANDBOX)}
    registry = registry_of(settings, adapters)  # type: ignore[arg-type]
    assert registry.delivery_mode(X) is DeliveryMode.TAP
    assert registry.delivery_mode(MASTODON) is DeliveryMode.AUTO
    assert registry.delivery_mode(SANDBOX) is DeliveryMode.AUTO


def test_dot_env_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "WEB_PORT=9090\n"
        "DEFAULT_TIMEZONE=Europe/Paris\n"
        "PUBLIC_URL=https://chorus.example/\n"
        "X_DELIVERY=auto\n"
        "DATABASE_URL=postgresql://127.0.0.1/test\n"
        "TELEGRAM_BOT_TOKEN=test-token-not-real\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.web_port == 9090
    assert settings.timezone.key == "Europe/Paris"
    assert settings.public_url == "https://chorus.example"  # trailing slash dropped
    assert settings.x_delivery is DeliveryMode.AUTO
    assert settings.resolved_database_url == "postgresql://127.0.0.1/test"
    assert settings.telegram_enabled
    assert "test-token-not-real" not in repr(settings)


def test_environment_wins_over_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("WEB_PORT=9090\n", encoding="utf-8")
    monkeypatch.setenv("WEB_PORT", "7070")
    assert load_settings().web_port == 7070


def test_data_dir_sets_the_default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "/srv/chorus")
    assert load_settings().resolved_database_url == "sqlite:////srv/chorus/chorus.sqlite3"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("WEB_PORT", "abc", "integer"),
        ("WEB_PORT", "70000", "65535"),
        ("DEFAULT_TIMEZONE", "Mars/Base", "Mars/Base"),
        ("DEFAULT_TIMEZONE", "Europe", "Europe"),  # a folder of zones, not a zone
        ("DEFAULT_TIMEZONE", "../../etc/passwd", "time zone"),
        ("X_DELIVERY", "sometimes", "'auto' or 'tap'"),
        ("MASTODON_DELIVERY", "later", "'auto' or 'tap'"),
        ("PUBLIC_URL", "chorus.example", "http://"),
        ("MIN_LEAD_MINUTES", "-1", "greater than or equal to 0"),
        ("DEFAULT_LANGUAGE", "de", "en, fr"),
        ("BLAST_CONCURRENCY", "0", "greater than or equal to 1"),
        ("BLAST_LEASE_SECONDS", "1", "greater than or equal to 3"),
        ("DATABASE_POOL_SIZE", "1", "greater than or equal to 2"),
        ("BLAST_DATABASE_POOL_SIZE", "0", "greater than or equal to 2"),
        ("EMBED_FRAME_ANCESTORS", "*; script-src *", "sites separated by spaces"),
        ("EMBED_FRAME_ANCESTORS", "https://a.org,https://b.org", "https://example.org"),
        ("EMBED_FRAME_ANCESTORS", " ", "sites separated by spaces"),
    ],
)
def test_a_malformed_value_names_the_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    message = str(exc.value)
    assert message.startswith(f"Setting {name}: ")
    assert says in message
    assert "\n" not in message


def test_a_malformed_value_in_dot_env_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WEB_PORT=eighty\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^Setting WEB_PORT: "):
        load_settings()


def test_embed_frame_ancestors_default_to_any_site_and_take_a_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().embed_frame_ancestors == "*"
    monkeypatch.setenv("EMBED_FRAME_ANCESTORS", " https://a.org   https://*.b.net:8443 'self' ")
    assert load_settings().embed_frame_ancestors == "https://a.org https://*.b.net:8443 'self'"


def test_moderator_ids_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_MODERATOR_IDS", " 111, 222,,333 ;444 ")
    assert load_settings().telegram_moderator_ids == ["111", "222", "333", "444"]


def test_moderator_ids_single_and_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_MODERATOR_IDS", "12345")
    assert load_settings().telegram_moderator_ids == ["12345"]
    monkeypatch.setenv("TELEGRAM_MODERATOR_IDS", "")
    assert load_settings().telegram_moderator_ids == []


def test_blank_tokens_mean_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "")
    settings = load_settings()
    assert not settings.telegram_enabled and not settings.discord_enabled


def test_require_secret_key() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        load_settings().require_secret_key()
    with pytest.raises(SettingsError, match="at least 32") as refused:
        load_settings(secret_key="short-not-real").require_secret_key()
    assert "secrets.token_urlsafe(32)" in str(refused.value)
    with pytest.raises(SettingsError, match="placeholder"):
        load_settings(secret_key="your-secret-key-here-0192837465019283").require_secret_key()
    secret = "test-secret-not-real-0123456789abcdef"
    assert load_settings(secret_key=secret).require_secret_key() == secret


def test_secret_key_from_environment_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "test-secret-not-real-0123456789abcdef")
    settings = load_settings()
    assert settings.require_secret_key() == "test-secret-not-real-0123456789abcdef"
    assert "test-secret-not-real" not in repr(settings)
    assert "test-secret-not-real" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"TELEGRAM_BOT_TOKEN": "123:test-token-not-real"}, "TELEGRAM_MODERATION_CHAT_ID"),
        (
            {"TELEGRAM_BOT_TOKEN": "123:test-token-not-real", "TELEGRAM_MODERATION_CHAT_ID": ""},
            "TELEGRAM_MODERATION_CHAT_ID",
        ),
        ({"DISCORD_BOT_TOKEN": "discord-token-not-real"}, "DISCORD_MODERATION_CHANNEL_ID"),
        (
            {"TELEGRAM_BOT_TOKEN": "123:test-token-not-real", "MODERATION_IN_PRIVATE": "true"},
            "TELEGRAM_MODERATOR_IDS",
        ),
        (
            {"DISCORD_BOT_TOKEN": "discord-token-not-real", "MODERATION_IN_PRIVATE": "true"},
            "DISCORD_MODERATOR_IDS",
        ),
    ],
)
def test_a_front_end_without_moderators_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], named: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as exc:
        load_settings().require_moderation()
    message = str(exc.value)
    assert message.startswith(f"Setting {named}")
    assert "\n" not in message


@pytest.mark.parametrize(
    "environment",
    [
        {},  # no chat front end: nothing to moderate through
        {"TELEGRAM_BOT_TOKEN": "123:test-token-not-real", "TELEGRAM_MODERATION_CHAT_ID": "-100"},
        {"DISCORD_BOT_TOKEN": "discord-token-not-real", "DISCORD_MODERATION_CHANNEL_ID": "42"},
        {
            "TELEGRAM_BOT_TOKEN": "123:test-token-not-real",
            "MODERATION_IN_PRIVATE": "true",
            "TELEGRAM_MODERATOR_IDS": "111",
        },
        {
            "DISCORD_BOT_TOKEN": "discord-token-not-real",
            "MODERATION_IN_PRIVATE": "true",
            "DISCORD_MODERATOR_IDS": "222, 333",
        },
    ],
)
def test_front_ends_with_a_way_to_moderate_are_accepted(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    load_settings().require_moderation()


def test_private_moderation_applies_only_where_no_moderation_chat_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODERATION_IN_PRIVATE", "true")
    monkeypatch.setenv("TELEGRAM_MODERATION_CHAT_ID", "-100")
    monkeypatch.setenv("DISCORD_MODERATOR_IDS", "222;333")
    settings = load_settings()
    assert not settings.telegram_private_moderation
    assert settings.discord_private_moderation
    assert settings.discord_moderator_ids == ["222", "333"]


def test_bluesky_defaults_to_auto_and_the_public_services(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.bluesky_delivery is DeliveryMode.AUTO
    assert settings.bluesky_appview_url == "https://public.api.bsky.app"
    assert settings.bluesky_directory_url == "https://plc.directory"
    monkeypatch.setenv("BLUESKY_DELIVERY", "tap")
    monkeypatch.setenv("BLUESKY_APPVIEW_URL", "http://127.0.0.1:9999/")
    settings = load_settings()
    assert settings.bluesky_delivery is DeliveryMode.TAP
    assert settings.bluesky_appview_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BLUESKY_DELIVERY", "sometimes"),
        ("BLUESKY_APPVIEW_URL", "public.api.bsky.app"),
        ("BLUESKY_APPVIEW_URL", "https://appview.example/?actor=x"),
        ("BLUESKY_DIRECTORY_URL", "ftp://plc.directory"),
        ("BLUESKY_DIRECTORY_URL", "https://plc.directory#x"),
    ],
)
def test_a_bad_bluesky_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=rf"^Setting {name}: "):
        load_settings()


WEBHOOK_SECRET = "wh-secret-not-real-7Hq2Lx9Pz4Nc8Vb3Mk6"


def webhook_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": "123456789:test-token-not-real",
        "telegram_webhook": "true",
        "telegram_webhook_secret": WEBHOOK_SECRET,
        "public_url": "https://chorus.example",
    }
    values.update(overrides)
    return load_settings(**values)


def test_telegram_polls_and_discord_gateway_follows_the_leader_by_default() -> None:
    settings = load_settings()
    assert settings.telegram_webhook is False
    assert settings.telegram_webhook_secret is None
    assert settings.discord_gateway == "auto"
    settings.require_telegram_webhook()  # nothing asked, nothing refused


def test_a_sound_webhook_configuration_is_accepted() -> None:
    for url in (
        "https://chorus.example",
        "https://chorus.example:8443/",
        "https://chorus.example:88",
        "http://127.0.0.1:8080",
        "http://localhost:9000",
        "http://[::1]:9000",
    ):
        webhook_settings(public_url=url).require_telegram_webhook()
    # without a Telegram token the webhook setting has nothing to do
    load_settings(telegram_webhook="true").require_telegram_webhook()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"telegram_webhook_secret": ""}, "TELEGRAM_WEBHOOK_SECRET is required"),
        ({"telegram_webhook_secret": None}, "TELEGRAM_WEBHOOK_SECRET is required"),
        ({"telegram_webhook_secret": "short-not-real"}, "too short"),
        ({"telegram_webhook_secret": "a" * 40}, "too easy to guess"),
        (
            {"telegram_webhook_secret": "change-me-secret-token-here-00000000"},
            "placeholder",
        ),
        (
            {"telegram_webhook_secret": "wh secret not real 7Hq2Lx9Pz4Nc8Vb3Mk6"},
            "only letters, digits, _ and -",
        ),
        ({"telegram_webhook_secret": "é" * 40}, "only letters, digits, _ and -"),
        ({"telegram_webhook_secret": "x" * 257}, "only letters, digits, _ and -"),
        ({"secret_key": WEBHOOK_SECRET}, "must differ from SECRET_KEY"),
        ({"public_url": "http://chorus.example"}, "must start with https://"),
        ({"public_url": "http://10.0.0.5:8080"}, "must start with https://"),
        ({"public_url": "https://chorus.example:8080"}, "port must be one of 443, 80, 88, 8443"),
    ],
)
def test_an_unsafe_webhook_configuration_is_refused_naming_the_setting(
    overrides: dict[str, object], message: str
) -> None:
    settings = webhook_settings(**overrides)
    with pytest.raises(SettingsError, match=message) as refused:
        settings.require_telegram_webhook()
    assert str(refused.value).startswith("Setting ")
    assert WEBHOOK_SECRET not in str(refused.value)


def test_discord_gateway_takes_auto_on_or_off_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("auto", "on", "off"):
        assert load_settings(discord_gateway=value).discord_gateway == value
    monkeypatch.setenv("DISCORD_GATEWAY", "sometimes")
    with pytest.raises(SettingsError, match=r"^Setting DISCORD_GATEWAY: .*'auto', 'on' or 'off'"):
        load_settings()


def test_the_webhook_secret_is_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
    settings = load_settings()
    assert WEBHOOK_SECRET not in repr(settings) and WEBHOOK_SECRET not in str(settings)
