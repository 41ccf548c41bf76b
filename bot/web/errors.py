"""Which HTTP status each refusal gets, and where the reader can go from there.

Every refusal is a readable page in the reader's language with a way back; the
status code tells machines (and tests) what kind of refusal it was.
"""

from __future__ import annotations

from bot.domain.errors import DomainError, NotFound
from bot.domain.text import Text

STATUS_BY_KEY: dict[str, int] = {
    "link.invalid": 400,
    "link.expired": 410,
    "link.used": 410,
    "web.manage.invalid": 400,
    "web.manage.expired": 410,
    "unpledge.too_late": 410,
    "campaign.not_found": 404,
    "pledge.already_launched": 410,
    "pledge.not_open": 409,
    "pledge.already": 409,
    "account.linked_by_other": 409,
    "pledge.network_not_in_campaign": 404,
    "web.error.not_found": 404,
    "web.error.form_expired": 403,
    "web.error.network_unavailable": 404,
    "web.error.denied": 403,
    "web.error.session_mismatch": 403,
    "web.error.network_down": 502,
    "web.mastodon.unreachable": 502,
    "web.mastodon.misbehaved": 502,
    "web.mastodon.registrations_full": 429,
}

# After these the pledge page itself cannot help: send the reader back to the chat.
DEAD_ENDS = frozenset(
    {
        "link.invalid",
        "link.expired",
        "link.used",
        "campaign.not_found",
        "pledge.already_launched",
        "pledge.not_open",
        "pledge.already",
    }
)


# A web identity pledged from the public page and has no chat: these refusals are worded
# for it without one (the page leads back to the campaign's public page instead).
WEB_WORDING: dict[str, str] = {
    "link.expired": "web.refusal.link_expired",
    "link.used": "web.refusal.link_used",
    "account.linked_by_other": "web.refusal.linked_by_other",
}


def web_wording(error: DomainError) -> Text:
    """``error``'s words for a reader who pledged from the public page, without a chat."""
    key = WEB_WORDING.get(error.key)
    return error.text if key is None else Text(key, error.text.params)


def status_of(error: DomainError) -> int:
    if error.key in STATUS_BY_KEY:
        return STATUS_BY_KEY[error.key]
    if isinstance(error, NotFound):
        return 404
    return 400
