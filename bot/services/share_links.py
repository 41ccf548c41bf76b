"""Where a campaign link can be shared without an account of ours: the networks' own
share pages that need no instance, then a few other places. Used by the public page, the
thank-you page and the chat pledge confirmation alike."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from bot.registry import NetworkRegistry


@dataclass(frozen=True)
class ShareLink:
    """One place to share the page; ``name_key`` is the catalogue key of its name."""

    name_key: str
    url: str


# Places to share that are no network of ours; {text} and {url} come URL-encoded. A network
# Chorus posts to declares its own share page in its spec (``NetworkSpec.share_intent``).
SHARE_PAGES = (
    ("web.public.share_bluesky", "https://bsky.app/intent/compose?text={text}%20{url}"),
    ("web.public.share_telegram", "https://t.me/share/url?url={url}&text={text}"),
    ("web.public.share_whatsapp", "https://wa.me/?text={text}%20{url}"),
    ("web.public.share_email", "mailto:?subject={text}&body={url}"),
)


def share_links(registry: NetworkRegistry, text: str, url: str) -> tuple[ShareLink, ...]:
    """The networks' share pages that need no instance, then the other places."""
    pages = [
        (spec.name_key, spec.share_intent)
        for spec in registry.share_specs()
        if spec.share_intent and not spec.shares_on_instance
    ]
    return tuple(
        ShareLink(key, fill(template, text=text, url=url))
        for key, template in (*pages, *SHARE_PAGES)
    )


def fill(template: str, **values: str) -> str:
    """``template`` with each value URL-encoded, the instance (a checked host) as is."""
    encoded = {k: v if k == "instance" else _encoded(v) for k, v in values.items()}
    return template.format(**encoded)


@lru_cache(maxsize=1024)
def _encoded(value: str) -> str:
    """``value`` URL-encoded, remembered: each page fills the same title and link into
    every share page, and a campaign's title is the same for all its supporters."""
    return quote(value, safe="")
