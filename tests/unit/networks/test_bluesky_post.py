"""Bluesky's posting side without the network: the record (facets at UTF-8 byte offsets,
language), the record key derived from the pledge, and how the PDS's answers map onto
outcomes. The PDS is an in-memory ``PdsClient`` (the real DPoP-bound HTTP one is the OAuth
side's, proven against its own fake; the two meet end to end in the integration step)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from atproto_client import models
from atproto_client.models.string_formats import validate_tid
from atproto_client.models.utils import get_model_as_dict
from atproto_client.utils import detect_facets

from adapters.networks.atproto_pds import (
    CreatedRecord,
    PdsAuthRevoked,
    PdsFailure,
    PdsRateLimited,
    PdsRecordExists,
)
from adapters.networks.bluesky import (
    BLUESKY,
    BLUESKY_SPEC,
    POST_COLLECTION,
    BlueskyNetwork,
    build_post,
    expanded_text,
    language_tag,
    record_key,
)
from bot.domain.account import SocialAccount, TokenSet
from bot.domain.message_rules import validate_message
from bot.domain.networks import DeliveryMode
from bot.domain.outcomes import OutcomeKind
from bot.domain.refs import UserRef
from bot.settings import Settings
from bot.testing.clock import FakeClock

DID = "did:plc:abcdefghijklmnopqrstuvwx"
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def _facet_texts(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    raw = record["text"].encode("utf-8")
    return [
        (raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"), f["features"][0])
        for f in record["facets"]
    ]


# ---- the record ----------------------------------------------------------------------------


def test_the_record_is_a_post_with_text_time_and_language() -> None:
    record = build_post("Hello", created_at=NOW, language="fr")
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Hello"
    assert record["createdAt"] == "2027-03-01T12:00:00.000Z"
    assert record["langs"] == ["fr"]
    assert "facets" not in record


@pytest.mark.parametrize("language", ["fr", None])
def test_the_record_is_what_the_sdks_lexicon_model_makes(language: str | None) -> None:
    text = "Été 👩\u200d👩\u200d👧 #Climat https://example.org/c/AB12"
    record = build_post(text, created_at=NOW, language=language)
    model = models.AppBskyFeedPost.Record(
        text=text,
        created_at="2027-03-01T12:00:00.000Z",
        langs=[language] if language else None,
        facets=detect_facets(text),
    )
    assert record == get_model_as_dict(model)
    again = build_post(text, created_at=NOW, language=language)
    again["facets"][0]["index"]["byteStart"] = 0  # each record has its own facets
    assert build_post(text, created_at=NOW, language=language) == record


def test_facets_sit_at_utf8_byte_offsets_after_accents_and_emoji() -> None:
    text = "Été 👩\u200d👩\u200d👧 🇫🇷 e\u0301 #ClimatMaintenant https://example.org/c/AB12?via=x."
    record = build_post(text, created_at=NOW, language=None)
    found = _facet_texts(record)
    assert found == [
        ("#ClimatMaintenant", {"tag": "ClimatMaintenant", "$type": "app.bsky.richtext.facet#tag"}),
        (
            "https://example.org/c/AB12?via=x",  # the full stop ends the sentence, not the URL
            {"uri": "https://example.org/c/AB12?via=x", "$type": "app.bsky.richtext.facet#link"},
        ),
    ]
    start = record["facets"][0]["index"]["byteStart"]
    assert start == len(text[: text.index("#")].encode("utf-8")) != text.index("#")


def test_a_hashtag_with_accents_is_one_tag_and_a_bare_number_is_none() -> None:
    record = build_post("#Écologie #2026 #été2026!", created_at=NOW, language="fr")
    assert [feature["tag"] for _, feature in _facet_texts(record)] == ["Écologie", "été2026"]
    assert [span for span, _ in _facet_texts(record)] == ["#Écologie", "#été2026"]


def test_no_language_when_the_supporters_is_not_a_tag() -> None:
    assert language_tag("fr") == "fr"
    assert language_tag("pt_BR") == "pt-BR"
    for bad in ("", "f", "français", "fr;DROP", "en-" + "a" * 40):
        assert language_tag(bad) is None
    assert "langs" not in build_post("Hi", created_at=NOW, language=None)


# ---- the record key ----------------------------------------------------------------------


def _tid_value(tid: str) -> int:
    value = 0
    for char in tid:
        value = value * 32 + _ALPHABET.index(char)
    return value


@pytest.mark.parametrize("key", ["chorus-1", "chorus-2", "chorus-987654321", "é-👩"])
def test_the_record_key_is_a_valid_tid_in_the_past_and_always_the_same(key: str) -> None:
    rkey = record_key(key, "https://chorus.example")
    assert validate_tid(rkey, None) == rkey  # the SDK's own check: 13 chars, top bit 0
    assert rkey == record_key(key, "https://chorus.example")
    micros = _tid_value(rkey) >> 10
    moment = datetime.fromtimestamp(micros / 1_000_000, UTC)
    assert datetime(2020, 1, 1, tzinfo=UTC) <= moment < datetime(2024, 6, 1, tzinfo=UTC)


def test_different_pledges_and_deployments_get_different_keys() -> None:
    keys = {record_key(f"chorus-{n}", "https://a.example") for n in range(2000)}
    assert len(keys) == 2000
    assert record_key("chorus-1", "https://a.example") != record_key(
        "chorus-1", "https://b.example"
    )


# ---- posting through the PDS seam -------------------------------------------------------


class MemoryPds:
    """A ``PdsClient`` holding records in memory; ``raises`` makes the next call fail."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.raises: Exception | None = None

    async def create_record(
        self, account: SocialAccount, *, collection: str, rkey: str, record: dict[str, Any]
    ) -> CreatedRecord:
        self.calls.append((collection, rkey))
        if self.raises is not None:
            failure, self.raises = self.raises, None
            raise failure
        uri = f"at://{account.remote_id}/{collection}/{rkey}"
        if uri in self.records:
            raise PdsRecordExists(uri)
        self.records[uri] = record
        return CreatedRecord(uri=uri, cid="bafyreiexample")


class Grants:
    def __init__(self) -> None:
        self.refreshed: list[SocialAccount] = []
        self.revoked: list[SocialAccount] = []

    async def refresh(self, account: SocialAccount) -> TokenSet:
        self.refreshed.append(account)
        return TokenSet("new-access")

    async def revoke(self, account: SocialAccount) -> None:
        self.revoked.append(account)


def _account(language: str = "fr") -> SocialAccount:
    return SocialAccount(
        owner=UserRef("test", "7", "Pat", language=language),
        network=BLUESKY,
        instance="pds.example",
        remote_id=DID,
        handle="pat.example",
        followers=4,
        tokens=TokenSet("access"),
        linked_at=NOW,
    )


def _network(pds: MemoryPds, grants: Grants | None = None, **values: Any) -> BlueskyNetwork:
    settings = Settings(_env_file=None, public_url="https://chorus.example", **values)  # type: ignore[call-arg]
    return BlueskyNetwork(settings, pds=pds, grants=grants or Grants(), clock=FakeClock(NOW))


async def test_post_creates_the_record_under_the_pledges_key() -> None:
    pds = MemoryPds()
    outcome = await _network(pds).post(_account(), "Go #Climat", "chorus-5")
    rkey = record_key("chorus-5", "https://chorus.example")
    assert outcome.kind is OutcomeKind.POSTED
    assert outcome.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert outcome.url == f"https://bsky.app/profile/{DID}/post/{rkey}"
    assert pds.calls == [(POST_COLLECTION, rkey)]
    record = pds.records[outcome.remote_id]
    assert record["langs"] == ["fr"]
    assert record["createdAt"] == "2027-03-01T12:00:00.000Z"
    assert record["facets"][0]["features"][0]["tag"] == "Climat"


async def test_a_retry_after_a_crash_finds_its_post_and_posts_nothing_twice() -> None:
    pds = MemoryPds()
    network = _network(pds)
    first = await network.post(_account(), "Go #Climat", "chorus-5")
    again = await network.post(_account(), "Go #Climat", "chorus-5")
    assert again.kind is OutcomeKind.POSTED
    assert (again.remote_id, again.url) == (first.remote_id, first.url)
    assert len(pds.records) == 1


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (PdsRateLimited(NOW + timedelta(minutes=7)), OutcomeKind.RATE_LIMITED),
        (PdsAuthRevoked("invalid_grant"), OutcomeKind.REVOKED),
        (PdsFailure("502 from the PDS"), OutcomeKind.NETWORK_DOWN),
    ],
)
async def test_pds_failures_map_to_outcomes(failure: Exception, kind: OutcomeKind) -> None:
    pds = MemoryPds()
    pds.raises = failure
    outcome = await _network(pds).post(_account(), "Go #Climat", "chorus-5")
    assert outcome.kind is kind
    assert not outcome.ok
    if kind is OutcomeKind.RATE_LIMITED:
        assert outcome.retry_at == NOW + timedelta(minutes=7)  # delayed, never dropped
    assert outcome.permanent is (kind is OutcomeKind.REVOKED)


async def test_a_text_bluesky_would_refuse_is_rejected_before_any_call() -> None:
    pds = MemoryPds()
    network = _network(pds)
    outcome = await network.post(_account(), "a" * 301, "chorus-5")
    assert outcome.kind is OutcomeKind.REJECTED
    fits = "👩\u200d👩\u200d👧" * 300  # 300 graphemes, but 5,400 bytes: over 3,000
    assert (await network.post(_account(), fits, "chorus-6")).kind is OutcomeKind.REJECTED
    assert pds.calls == []


async def test_an_account_whose_id_is_not_a_did_is_not_posted_for() -> None:
    pds = MemoryPds()
    account = replace(_account(), remote_id="did:plc:x/../../evil")
    outcome = await _network(pds).post(account, "Go #Climat", "chorus-5")
    assert outcome.kind is OutcomeKind.REJECTED
    assert pds.calls == []


async def test_refresh_and_revoke_are_the_grants() -> None:
    grants = Grants()
    network = _network(MemoryPds(), grants)
    assert (await network.refresh(_account())).access_token == "new-access"
    await network.revoke(_account())
    assert len(grants.refreshed) == len(grants.revoked) == 1


def test_compose_url_opens_bluesky_with_the_text() -> None:
    text = "Été & co #Climat https://example.org/c/X?a=1&b=2"
    url = _network(MemoryPds()).compose_url(_account(), text)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "bsky.app", "/intent/compose")
    assert parse_qs(parts.query) == {"text": [text]}


# ---- the spec ----------------------------------------------------------------------------


def test_spec_counts_graphemes_and_asks_no_write_scope_for_tap() -> None:
    assert BLUESKY_SPEC.order == 3
    assert BLUESKY_SPEC.modes == frozenset(DeliveryMode)
    assert BLUESKY_SPEC.scopes[DeliveryMode.AUTO] == (
        "atproto",
        "repo:app.bsky.feed.post?action=create",
    )
    assert BLUESKY_SPEC.scopes[DeliveryMode.TAP] == ("atproto",)
    assert BLUESKY_SPEC.display("pat.example", "bsky.social") == "@pat.example"
    assert BLUESKY_SPEC.revoke_page.format(instance="bsky.social") == "https://bsky.social/account"
    url = "https://example.org/" + "a" * 200
    with pytest.raises(Exception, match="too_long"):
        validate_message(f"{url} " + "x" * 100, [BLUESKY_SPEC])  # links count as written
    assert validate_message("👩\u200d👩\u200d👧 " * 150, [BLUESKY_SPEC])


@pytest.mark.parametrize(
    ("mode", "scopes"),
    [("auto", "atproto repo:app.bsky.feed.post?action=create"), ("tap", "atproto")],
)
def test_scopes_follow_the_delivery_mode(mode: str, scopes: str) -> None:
    assert _network(MemoryPds(), bluesky_delivery=mode).scopes == scopes


# ---- reading back what the app shortened -------------------------------------------------


def _link(start: int, end: int, uri: str) -> dict[str, Any]:
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
    }


def test_shortened_links_are_read_back_in_full() -> None:
    text = "Été ! example.org/c/AB12?v... #Climat"
    start = len("Été ! ".encode())
    end = start + len(b"example.org/c/AB12?v...")
    full = "https://example.org/c/AB12?via=abc"
    assert expanded_text(text, [_link(start, end, full)]) == f"Été ! {full} #Climat"


@pytest.mark.parametrize(
    "facets",
    [
        None,
        "junk",
        [_link(0, 999, "https://evil.example")],  # past the end
        [_link(1, 3, "https://evil.example")],  # inside "É" (2 bytes)
        [_link(5, 2, "https://evil.example")],  # backwards
        [_link(0, 2, "javascript:alert(1)")],  # not a web address
        [_link(0, 2, "https://a.example/ b")],  # a space inside
        [{"index": {"byteStart": "0", "byteEnd": 2}, "features": []}],
        [{"index": {"byteStart": True, "byteEnd": 2}, "features": [{"uri": "https://x.y"}]}],
    ],
)
def test_hostile_facets_leave_the_text_alone(facets: Any) -> None:
    assert expanded_text("Été ok", facets) == "Été ok"


def test_overlapping_link_facets_keep_the_first() -> None:
    facets = [_link(0, 4, "https://a.example"), _link(2, 6, "https://b.example")]
    assert expanded_text("abcdefgh", facets) == "https://a.exampleefgh"
