"""Which links are Discord server invites, for the public page's "Support on Discord".

The core stores whatever invite the front end vouches for; this is where Discord's
invite links are told apart from everything else (other hosts, look-alikes, links with
credentials or queries), and written back in one canonical form.
"""

from __future__ import annotations

import re

# https://discord.gg/CODE or https://discord.com/invite/CODE (scheme and www optional);
# an invite code is letters, digits and hyphens.
_INVITE_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:discord\.gg/|discord(?:app)?\.com/invite/)"
    r"(?P<code>[A-Za-z0-9-]{2,32})/?",
    re.IGNORECASE,
)


def discord_invite(text: str) -> str | None:
    """The invite as ``https://discord.gg/CODE``, or None if ``text`` is not one."""
    match = _INVITE_RE.fullmatch(text.strip())
    if match is None:
        return None
    return f"https://discord.gg/{match['code']}"
