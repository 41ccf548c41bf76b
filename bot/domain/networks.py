"""Social networks Chorus can post to, and how each one delivers at launch."""

from __future__ import annotations

from enum import StrEnum


class Network(StrEnum):
    """A social network a supporter can link."""

    X = "x"
    MASTODON = "mastodon"
    SANDBOX = "sandbox"


class DeliveryMode(StrEnum):
    """How a pledge's post leaves at the launch moment.

    ``auto``: Chorus posts with the supporter's own token.
    ``tap``: the supporter gets a one-tap prefilled compose link in their chat and
    Chorus reads back afterwards who really posted.
    """

    AUTO = "auto"
    TAP = "tap"
