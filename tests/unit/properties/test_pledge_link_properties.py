"""Properties of pledge-link decoding: any string is a ticket or one of our two refusals,
what is issued reads back, and a link changed anywhere is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError
from bot.domain.refs import UserRef
from bot.ports import Repository
from bot.services.links import PledgeLinks, PledgeTicket
from bot.testing.clock import FakeClock
from tests.unit.properties.strategies import tricky_text
from tests.unit.services.conftest import SECRET

TTL = timedelta(minutes=30)
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The repository is only there to build PledgeLinks: reading a link never touches it.
uses_repo = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

token_like = st.lists(st.text(alphabet=URL_SAFE, max_size=40), min_size=1, max_size=4).map(
    ".".join
)
people = st.builds(
    UserRef,
    st.sampled_from(["telegram", "discord", "console"]),
    st.text(alphabet="0123456789-", min_size=1, max_size=20),
    st.text(max_size=80),
    st.sampled_from(["en", "fr", "de", ""]),
)
refs = st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ23456789", min_size=6, max_size=6)


@pytest.fixture
def links(repo: Repository) -> PledgeLinks:
    return PledgeLinks(SECRET, repo, FakeClock(), TTL)


def read(links: PledgeLinks, token: str) -> PledgeTicket | str:
    """The ticket, or the key of the refusal."""
    try:
        return links.read(token)
    except DomainError as refused:
        return refused.key


@uses_repo
@given(st.one_of(tricky_text, token_like))
def test_any_string_is_a_ticket_or_an_invalid_link(links: PledgeLinks, token: str) -> None:
    assert read(links, token) in ("link.invalid", "link.expired")


@uses_repo
@given(refs, people)
def test_what_is_issued_reads_back(links: PledgeLinks, ref: str, who: UserRef) -> None:
    ticket = read(links, links.issue(ref, who))
    assert isinstance(ticket, PledgeTicket)
    assert ticket.campaign_ref == ref
    assert ticket.supporter == UserRef(who.platform, who.id, who.name[:64], who.language)


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refs, people)
def test_a_link_changed_in_any_one_place_is_refused(
    links: PledgeLinks, ref: str, who: UserRef
) -> None:
    token = links.issue(ref, who)  # its nonce is random, so the changes are chosen here:
    alphabet = URL_SAFE + "."  # every character in every place would take too long
    changes = [
        (position, alphabet[(alphabet.index(token[position]) + shift) % len(alphabet)])
        for position in range(len(token))
        for shift in (1, 32)
    ]
    last = len(token) - 1  # base64 ignores its spare bits: every other character there
    changes += [(last, other) for other in alphabet if other != token[last]]
    accepted = [
        tampered
        for position, other in changes
        for tampered in [token[:position] + other + token[position + 1 :]]
        if read(links, tampered) != "link.invalid"
    ]
    assert accepted == []


# Found by the property above: base64 ignores the spare bits of the signature's last
# character, so three other spellings of every link were accepted as that link.
def test_every_other_last_character_is_refused(links: PledgeLinks) -> None:
    token = links.issue("K7QX2M", UserRef("telegram", "42", "Sam", "en"))
    spellings = [token[:-1] + other for other in URL_SAFE if other != token[-1]]
    assert [read(links, spelling) for spelling in spellings] == ["link.invalid"] * 63
    assert isinstance(read(links, token), PledgeTicket)
