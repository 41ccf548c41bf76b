"""Domain errors that carry a translation key, so every front end can explain them.

A front end never shows a traceback: it renders ``error.text`` in the user's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.domain.text import Text

if TYPE_CHECKING:
    from bot.domain.account import SocialAccount


class DomainError(Exception):
    """A rule was broken; ``text`` says which one in words a person understands."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.text = Text(key, params)

    @property
    def key(self) -> str:
        return self.text.key


class InvalidTransition(DomainError):
    """A campaign or pledge was asked to move to a status its rules forbid."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to this user)."""


class NotAllowed(DomainError):
    """The person asking has no right to do this."""


class LinkedByOther(DomainError):
    """The account is already another person's; ``account`` is the one refused.

    Storage raises it with the bare handle: only the network registry knows how the
    account is shown, so the pledge service says it again in those words.
    """

    def __init__(self, account: SocialAccount) -> None:
        super().__init__("account.linked_by_other", account=f"@{account.handle}")
        self.account = account


class StaleUpdate(DomainError):
    """Someone else changed the row first; the caller's view is out of date."""

    def __init__(self) -> None:
        super().__init__("error.stale")


class InvalidInput(DomainError):
    """A value typed by a person does not pass validation."""
