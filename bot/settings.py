"""Chorus settings, read from the environment and ``.env`` by pydantic-settings.

The names are fixed: deployments and tooling depend on them. ``load_settings`` turns
a validation failure into one clear line naming the setting.
"""

from __future__ import annotations

import re
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.networks import DeliveryMode
from bot.i18n import supported_languages
from bot.secret_strength import GENERATE_HINT, MIN_LENGTH, weakness

# What Telegram accepts as a webhook's secret token (sent back in a header on every update).
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to

# One CSP source: *, 'self', 'none', a scheme (https:) or a host (https://*.example.org:8443).
FRAME_SOURCE = re.compile(
    r"\*|'self'|'none'|[a-z][a-z0-9+.-]*:"
    r"|([a-z][a-z0-9+.-]*://)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?(/[^\s;,'\"]*)?",
    re.IGNORECASE,
)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, int):
        return [str(value)]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    data_dir: Path = Path("data")
    database_url: str = ""
    # PostgreSQL connections a process may hold: its main loop's pool, the blast thread's
    database_pool_size: int = Field(10, ge=2, le=500)
    blast_database_pool_size: int = Field(4, ge=2, le=500)
    secret_key: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)
    web_trusted_proxy: bool = False
    web_rate_per_address: int = Field(120, ge=1)
    web_rate_per_link: int = Field(30, ge=1)
    web_rate_max_keys: int = Field(10_000, ge=1)
    embed_frame_ancestors: str = "*"
    default_timezone: str = "UTC"
    default_language: str = "en"
    min_lead_minutes: int = Field(60, ge=0)
    max_pending_per_organiser: int = Field(3, ge=1)
    picture_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    updates_per_day: int = Field(3, ge=1)
    trend_max_servers: int = Field(10, ge=0, le=100)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_token: SecretStr | None = None  # /metrics wants "Authorization: Bearer <it>"
    readiness_timeout_seconds: float = Field(2.0, gt=0, le=60)
    maintenance_interval_minutes: int = Field(5, ge=1)
    leader_poll_seconds: float = Field(1.0, gt=0, le=60)

    pledge_link_ttl_minutes: int = Field(60 * 24, ge=1)
    launch_grace_minutes: int = Field(30, ge=0)
    prepare_minutes_before: int = Field(5, ge=1)
    tap_reminder_minutes: int = Field(30, ge=1)
    tap_readback_minutes: int = Field(120, ge=1)
    blast_concurrency: int = Field(50, ge=1)
    blast_retry_window_seconds: int = Field(600, ge=0)
    # with a shared database (PostgreSQL): whether this process posts batches of a blast
    blast_worker: bool = True
    # the blast posts from a thread with its own event loop, so replies do not wait for it
    blast_thread: bool = True
    # how long a claimed batch is a process's before another may take it over (a process
    # that died loses only its lease); renewed every third of it while the batch posts
    blast_lease_seconds: float = Field(30.0, ge=3.0, le=600.0)

    moderation_in_private: bool = False

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_username: str | None = None  # for t.me links on the public campaign page
    telegram_moderation_chat_id: str | None = None
    telegram_moderator_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    telegram_webhook: bool = False  # updates by HTTP POST to the web app instead of polling
    telegram_webhook_secret: SecretStr | None = None

    discord_bot_token: SecretStr | None = None
    discord_moderation_channel_id: str | None = None
    discord_moderator_role_id: str | None = None
    discord_moderator_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    # who holds the gateway: auto = the leading process (a single process leads), on, off
    discord_gateway: Literal["auto", "on", "off"] = "auto"

    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None
    x_api_url: str = "https://api.x.com"
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_delivery: DeliveryMode = DeliveryMode.TAP

    mastodon_delivery: DeliveryMode = DeliveryMode.AUTO
    mastodon_allow_private_hosts: bool = False
    mastodon_deadline_seconds: float = Field(20.0, gt=0)
    mastodon_registrations_per_hour: int = Field(30, ge=0)

    bluesky_delivery: DeliveryMode = DeliveryMode.AUTO
    # the AT Protocol network of issue 13 (the adapter names it; settings are plain text)
    bluesky_client_key: SecretStr | None = None
    bluesky_directory_url: str = "https://plc.directory"
    bluesky_appview_url: str = "https://public.api.bsky.app"
    bluesky_allow_private_hosts: bool = False
    bluesky_deadline_seconds: float = Field(20.0, gt=0)

    @field_validator("telegram_moderator_ids", "discord_moderator_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a folder
            raise ValueError(f"unknown time zone {value!r} (try Europe/Paris or UTC)") from exc
        return value

    @field_validator("embed_frame_ancestors")
    @classmethod
    def _frame_ancestors(cls, value: str) -> str:
        sources = value.split()
        if not sources or any(not FRAME_SOURCE.fullmatch(source) for source in sources):
            raise ValueError(
                f"{value!r} is not a list of sites separated by spaces "
                "(try * or https://example.org https://*.example.net)"
            )
        return " ".join(sources)

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        languages = supported_languages()
        if value not in languages:
            raise ValueError(f"unsupported language {value!r} (choose {', '.join(languages)})")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("bluesky_appview_url", "bluesky_directory_url")
    @classmethod
    def _service_url(cls, value: str) -> str:
        """A service's base address: paths are appended to it, so no query or fragment."""
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?# "):
            raise ValueError("must be an http:// or https:// address with no ?, # or space")
        return value.rstrip("/")

    @field_validator(
        "telegram_bot_token",
        "discord_bot_token",
        "secret_key",
        "x_client_secret",
        "metrics_token",
        "telegram_webhook_secret",
        "telegram_moderation_chat_id",
        "telegram_bot_username",
        "discord_moderation_channel_id",
        "discord_moderator_role_id",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'chorus.sqlite3'}"

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def discord_enabled(self) -> bool:
        return self.discord_bot_token is not None

    @property
    def x_enabled(self) -> bool:
        return bool(self.x_client_id)

    @property
    def telegram_private_moderation(self) -> bool:
        """Telegram moderators decide in their private chats (no moderation chat is set)."""
        return self.moderation_in_private and not self.telegram_moderation_chat_id

    @property
    def discord_private_moderation(self) -> bool:
        """Discord moderators decide in direct messages (no moderation channel is set)."""
        return self.moderation_in_private and not self.discord_moderation_channel_id

    def require_moderation(self) -> None:
        """Refuse a chat front end whose campaigns no moderator would ever see.

        Each enabled front end needs its moderation chat, or MODERATION_IN_PRIVATE=true
        with at least one moderator id, who then gets each campaign in a private chat.
        """
        fronts = (
            (
                self.telegram_enabled,
                "TELEGRAM_BOT_TOKEN",
                "TELEGRAM_MODERATION_CHAT_ID",
                self.telegram_moderation_chat_id,
                "TELEGRAM_MODERATOR_IDS",
                self.telegram_moderator_ids,
            ),
            (
                self.discord_enabled,
                "DISCORD_BOT_TOKEN",
                "DISCORD_MODERATION_CHANNEL_ID",
                self.discord_moderation_channel_id,
                "DISCORD_MODERATOR_IDS",
                self.discord_moderator_ids,
            ),
        )
        for enabled, token, chat_name, chat, ids_name, ids in fronts:
            if not enabled or chat:
                continue
            if not self.moderation_in_private:
                raise SettingsError(
                    f"Setting {chat_name} is required with {token}: without it no moderator "
                    f"would ever see a campaign (or set MODERATION_IN_PRIVATE=true and "
                    f"{ids_name} so moderators decide in their private chat)"
                )
            if not ids:
                raise SettingsError(
                    f"Setting {ids_name}: MODERATION_IN_PRIVATE=true without {chat_name} "
                    "needs at least one moderator id to send the campaigns to"
                )

    def require_telegram_webhook(self) -> None:
        """With TELEGRAM_WEBHOOK=true, refuse what Telegram would refuse or what would let
        anyone feed the bot updates: no strong secret, or a public address Telegram cannot
        reach over HTTPS (plain HTTP is accepted on a loopback address, for tests)."""
        if not (self.telegram_enabled and self.telegram_webhook):
            return
        if self.telegram_webhook_secret is None:
            raise SettingsError(
                "Setting TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK=true: "
                f"Telegram sends it with every update; generate one with: {GENERATE_HINT}"
            )
        secret = self.telegram_webhook_secret.get_secret_value()
        if not WEBHOOK_SECRET.fullmatch(secret):
            raise SettingsError(
                "Setting TELEGRAM_WEBHOOK_SECRET: Telegram accepts only letters, digits, _ and - "
                f"(at most 256); generate one with: {GENERATE_HINT}"
            )
        reason = weakness(secret)
        if reason is not None:
            raise SettingsError(
                f"Setting TELEGRAM_WEBHOOK_SECRET is {reason}: use {MIN_LENGTH}+ random "
                f"characters; generate one with: {GENERATE_HINT}"
            )
        if self.secret_key is not None and secret == self.secret_key.get_secret_value():
            raise SettingsError(
                "Setting TELEGRAM_WEBHOOK_SECRET must differ from SECRET_KEY: Telegram "
                "sends it back with every update; generate one with: " + GENERATE_HINT
            )
        parts = urlsplit(self.public_url)
        loopback = _is_loopback(parts.hostname or "")
        if parts.scheme != "https" and not loopback:
            raise SettingsError(
                f"Setting PUBLIC_URL must start with https:// with TELEGRAM_WEBHOOK=true "
                f"(Telegram delivers updates only over HTTPS), not {parts.scheme}://"
            )
        try:
            port = parts.port
        except ValueError:
            port = -1
        if not loopback and (port or 443) not in WEBHOOK_PORTS:
            raise SettingsError(
                f"Setting PUBLIC_URL: with TELEGRAM_WEBHOOK=true its port must be one of "
                f"{', '.join(map(str, WEBHOOK_PORTS))} (Telegram delivers to no other)"
            )

    def require_secret_key(self) -> str:
        """SECRET_KEY, or ``SettingsError`` saying why it is unfit and how to make one."""
        if self.secret_key is None:
            problem = "is required"
        else:
            key = self.secret_key.get_secret_value()
            reason = weakness(key)
            if reason is None:
                return key
            problem = f"is {reason}"
        raise SettingsError(
            f"Setting SECRET_KEY {problem}: use {MIN_LENGTH}+ random characters; "
            f"generate one with: {GENERATE_HINT}"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Read the settings, or raise ``SettingsError`` with one line naming the culprit."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Setting {name}: {message}") from None
