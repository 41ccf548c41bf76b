"""Turning templates into pages in the reader's language and time zone.

Every text on a page comes from the i18n catalogue through ``_``; Jinja2 escapes all
output, so campaign titles and messages typed by people are shown, never run.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.runtime import Context
from markupsafe import Markup, escape

from bot.domain.campaign import story_paragraphs
from bot.domain.text import Text
from bot.i18n import format_moment, pick_from_accept_language, plain_text, render

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
MAX_TZ_LENGTH = 64
LINK_RE = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
LINK_TRAILER = ".,;:!?)]}»"


def linkify(text: str) -> Markup:
    """``text`` escaped, its http(s) addresses made links that pass no referrer and earn
    no ranking; nothing else becomes markup (no other scheme can match)."""
    out: list[Markup] = []
    last = 0
    for found in LINK_RE.finditer(text):
        url = found.group(0).rstrip(LINK_TRAILER)
        out.append(escape(text[last : found.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow noopener ugc">{0}</a>').format(url))
        last = found.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


class _PageContext(Context):
    """Jinja's context, with a short way to call the page's own helpers (``_``, ``text``,
    ``moment``): a page calls ``_`` dozens of times, and Jinja's ``call`` looks for
    ``pass_context`` and friends on each; these take none, so only the call is kept."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "__func__", None) in _PAGE_HELPERS:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:  # as Jinja's own ``call`` answers it
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        return super().call(__obj, *args, **kwargs)


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # shipped with the code: no stat() of the file on every page
    )
    env.context_class = _PageContext
    env.filters["linkify"] = linkify
    env.globals["story_paragraphs"] = story_paragraphs
    return env


def zone_or(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The browser's time zone when it named a real one, else ``default``."""
    if not name or len(name) > MAX_TZ_LENGTH or ".." in name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


class Page:
    """What a handler needs to render in one reader's language and time zone."""

    def __init__(
        self, env: Environment, request: web.Request, default_language: str, tz: ZoneInfo
    ) -> None:
        self.env = env
        self.language = pick_from_accept_language(
            request.headers.get("Accept-Language"), default_language
        )
        self.tz = tz

    def text(self, text: Text) -> str:
        return render(text, self.language, self.tz)

    def _(self, key: str, **params: Any) -> str:
        if not params:  # most of a page's texts: looked up once per language
            return plain_text(key, self.language)
        return render(Text(key, params), self.language, self.tz)

    def moment(self, moment: datetime) -> str:
        return format_moment(moment, self.tz)

    def response(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self.env.get_template(template).render(
            _=self._,
            text=self.text,
            moment=self.moment,
            lang=self.language,
            tz_name=str(self.tz.key),
            **context,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


_PAGE_HELPERS = frozenset({Page._, Page.text, Page.moment})
