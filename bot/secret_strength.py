"""Whether a ``SECRET_KEY`` is fit to sign pledge links and encrypt stored tokens.

Everything a supporter trusts Chorus with hangs on that one key, so ``chorus run`` and
``chorus migrate`` refuse one that is short or obviously guessable (a repeated pattern,
a handful of characters, a placeholder such as "changeme") and say how to make a good one.
"""

from __future__ import annotations

import re

MIN_LENGTH = 32
MIN_DISTINCT = 8  # a key from the generate command has dozens; "abababab…" has two
GENERATE_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

# Keys made only of these words (once letters are kept and lower-cased) are placeholders
# copied from an example, whatever digits or dashes pad them to length.
_PLACEHOLDER = re.compile(
    r"(?:change|me|my|your|the|a|secret|key|password|passwd|pass|here|replace|example|"
    r"default|dummy|insecure|sample|todo|fixme|random|string|value|chorus|generate|long|"
    r"this|with|characters|chars|put|some|setme|set|token|xx+)+"
)


def weakness(key: str) -> str | None:
    """Why ``key`` is not good enough, in a few words; None when it is."""
    if len(key) < MIN_LENGTH:
        return f"too short ({len(key)} characters; at least {MIN_LENGTH})"
    if len(set(key)) < MIN_DISTINCT or _periodic(key):
        return "too easy to guess (it repeats a few characters)"
    letters = "".join(c for c in key.lower() if c.isalpha())
    if letters and _PLACEHOLDER.fullmatch(letters):
        return "a placeholder, not a random key"
    return None


def _periodic(key: str) -> bool:
    """True when ``key`` is one short chunk repeated (``abcdabcdabcd…``)."""
    return any(
        key == (key[:period] * (len(key) // period + 1))[: len(key)]
        for period in range(1, len(key) // 2 + 1)
    )
