"""Which addresses Chorus may connect to: tunnelled and translated forms are judged by the
IPv4 address they carry, so a private address cannot hide inside an IPv6 one."""

from __future__ import annotations

import pytest

from adapters.networks.instances import is_public


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "::1",
        "::",
        "fe80::1%eth0",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.1.2.3",
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:0:a00:1",  # IPv4-translated (SIIT) of 10.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
        "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # Teredo through server 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "64:ff9b:1:a00:1::",  # local-use NAT64, /48 layout
    ],
)
def test_private_addresses_and_their_disguises_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "2002:808:808::",  # 6to4 of 8.8.8.8
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, server and client public
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    ],
)
def test_public_addresses_and_their_tunnelled_forms_pass(address: str) -> None:
    assert is_public(address)
