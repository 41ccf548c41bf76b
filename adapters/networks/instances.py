"""Reading a Mastodon instance typed by a supporter, and refusing to be aimed inwards.

A supporter types ``mastodon.social``, ``https://Mastodon.Social/about`` or
``@alice@mastodon.social``; all mean the same host. Because the server then fetches
from that host, it must not be a private, loopback, link-local, multicast or reserved
address (server-side request forgery), unless MASTODON_ALLOW_PRIVATE_HOSTS is set for
tests and local development; ``is_public`` is the rule the guarded HTTP path applies to
every address a name resolves to.
"""

from __future__ import annotations

import ipaddress
import re

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


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_LOW32 = 0xFFFFFFFF


def carried_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a tunnelled or translated IPv6 form carries (none for plain IPv6).

    IPv4-mapped and -translated, IPv4-compatible, 6to4 (2002::/16), Teredo (2001::/32: its
    server and its client) and NAT64 (64:ff9b::/96; for the local-use 64:ff9b:1::/48 both
    the /96 and the /48 layouts of RFC 6052, since the operator picks the length).
    """
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    value = int(ip)
    low = ipaddress.IPv4Address(value & _LOW32)
    if ip in _NAT64_LOCAL:
        spread = ((value >> 64) & 0xFFFF) << 16 | (value >> 40) & 0xFFFF
        return [low, ipaddress.IPv4Address(spread)]
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE or ip in _IPV4_TRANSLATED:
        return [low]
    return []


def is_public(address: str) -> bool:
    """Whether Chorus may connect to ``address``; IPv6 forms carrying IPv4 are judged by it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        carried = carried_ipv4(ip)
        if carried:
            return all(_public(inner) for inner in carried)
    return _public(ip)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )
