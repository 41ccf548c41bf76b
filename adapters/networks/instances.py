"""Reading a Mastodon instance typed by a supporter, and refusing to be aimed inwards.

A supporter types ``mastodon.social``, ``https://Mastodon.Social/about`` or
``@alice@mastodon.social``; all mean the same host. Because the server then fetches
from that host, it must not be a private, loopback, link-local, multicast or reserved
address (server-side request forgery), unless MASTODON_ALLOW_PRIVATE_HOSTS is set for
tests and local development.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

from bot.domain.errors import InvalidInput

_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_INPUT = 300


def normalise_instance(text: str, *, allow_port: bool) -> str:
    """``host`` (or ``host:port`` when ``allow_port``), lower-case ASCII (IDNA)."""
    raw = text.strip()
    if not raw:
        raise InvalidInput("web.mastodon.instance_missing")
    if len(raw) > MAX_INPUT:
        raise InvalidInput("web.mastodon.instance_invalid", value=raw[:40] + "…")
    value = raw
    if "://" in value:
        scheme, _, value = value.partition("://")
        if scheme.lower() not in ("http", "https"):
            raise InvalidInput("web.mastodon.instance_invalid", value=raw)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in value:  # @alice@mastodon.social or alice@mastodon.social
        value = value.rsplit("@", 1)[1]
    host, port = value, ""
    if value.count(":") == 1:
        host, _, port = value.partition(":")
    host = host.strip().rstrip(".").lower()
    if port and not (allow_port and port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise InvalidInput("web.mastodon.instance_invalid", value=raw)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ascii_host = _idna(host, raw)
    else:
        if ip.version == 6:  # "host:port" could not be read back; no instance is named so
            raise InvalidInput("web.mastodon.instance_invalid", value=raw)
        ascii_host = str(ip)
    return f"{ascii_host}:{int(port)}" if port else ascii_host


def _idna(host: str, raw: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput("web.mastodon.instance_invalid", value=raw) from exc
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise InvalidInput("web.mastodon.instance_invalid", value=raw)
    return ascii_host


def split_host(instance: str) -> tuple[str, int | None]:
    host, _, port = instance.partition(":")
    return host, int(port) if port else None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def ensure_public_host(instance: str) -> None:
    """Resolve the host and refuse it if any address is not a public one."""
    host, port = split_host(instance)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise InvalidInput("web.mastodon.instance_unknown", instance=instance) from exc
        addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public(address) for address in addresses):
        raise InvalidInput("web.mastodon.instance_private", instance=instance)
