"""Properties of reading a Mastodon instance typed by a supporter: whatever is typed, the
result is a bare lower-case host (and port, in test mode) that reads the same again, or
our explained refusal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.networks.instances import normalise_instance, split_host
from bot.domain.errors import InvalidInput
from tests.unit.properties.strategies import tricky_text

label_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-éüßİ"
labels = st.text(alphabet=label_chars, min_size=1, max_size=12)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.sampled_from(["localhost", "mastodon.social", "Mastodon.Social.", "xn--bcher-kva.example"]),
)
typed_instances = st.builds(
    lambda scheme, user, host, port, path: f"{scheme}{user}{host}{port}{path}",
    st.sampled_from(["", "https://", "HTTP://", "ftp://", "//", "https:/"]),
    st.sampled_from(["", "@alice@", "alice@", "user:pass@", "@"]),
    hosts,
    st.sampled_from(["", ":443", ":8080", ":0", ":65536", ":²", ":١٢", ":", ":x"]),
    st.sampled_from(["", "/", "/about", "?q=1", "#top", "/@alice"]),
)
anything = st.one_of(typed_instances, tricky_text)


def normalised(text: str, allow_port: bool) -> str | None:
    """The instance, or None when refused with one of our explained errors."""
    try:
        return normalise_instance(text, allow_port=allow_port)
    except InvalidInput:
        return None


@given(anything, st.booleans())
def test_an_instance_reads_the_same_again(text: str, allow_port: bool) -> None:
    instance = normalised(text, allow_port)
    if instance is not None:
        assert normalise_instance(instance, allow_port=allow_port) == instance


@given(anything, st.booleans())
def test_an_instance_is_a_bare_lower_case_host(text: str, allow_port: bool) -> None:
    instance = normalised(text, allow_port)
    if instance is None:
        return
    assert instance.isascii() and instance == instance.lower()
    assert not any(mark in instance for mark in ("://", "/", "@", "?", "#", " ", "%"))
    host, port = split_host(instance)
    assert host and (f"{host}:{port}" if port is not None else host) == instance
    assert port is None or (allow_port and 0 < port < 65536)


# Found by the properties above: an IPv6 address came out as "::1", which split_host
# then failed to read (no Mastodon instance is named by one), and a port of other
# scripts' digits ("²") passed isdigit() and crashed int() in test mode.
@pytest.mark.parametrize("typed", ["::", "::1", "2001:db8::1", "::ffff:1.2.3.4", "[::1]:443"])
def test_ipv6_addresses_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_instance(typed, allow_port=True)
    assert refused.value.key == "web.mastodon.instance_invalid"


@pytest.mark.parametrize("port", ["²", "١٢", "８０"])
def test_ports_in_other_scripts_digits_are_refused(port: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_instance(f"mastodon.example:{port}", allow_port=True)
    assert refused.value.key == "web.mastodon.instance_invalid"
