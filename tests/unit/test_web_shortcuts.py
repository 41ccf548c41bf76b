"""The pledge site's shortcuts write exactly what the long way wrote.

The page's ``_`` skips Jinja's ``pass_context`` checks, and share links remember their
encoded parts; each must stay indistinguishable from what it replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp.test_utils import make_mocked_request
from jinja2 import DictLoader, pass_context
from jinja2.runtime import Context

from bot.domain.text import t
from bot.i18n import render
from bot.services.share_links import fill
from bot.web.rendering import Page, make_environment


def page(language: str = "fr") -> Page:
    request = make_mocked_request("GET", "/", headers={"Accept-Language": language})
    return Page(make_environment(), request, "en", ZoneInfo("Europe/Paris"))


def test_the_page_helpers_give_what_render_gives() -> None:
    shown = page()
    moment = datetime(2030, 7, 14, 16, 0, tzinfo=UTC)
    env = shown.env
    env.loader = DictLoader(
        {
            "t.html": "{{ _('web.site_name') }}|{{ _('goal.count', goal=12345) }}|"
            "{{ text(hello) }}|{{ moment(at) }}|"
            "{% for n in [1, 2] %}{{ _('goal.count', goal=n) }}{{ text(hello) }};{% endfor %}"
        }
    )

    html = env.get_template("t.html").render(
        _=shown._, text=shown.text, moment=shown.moment, hello=t("web.skip"), at=moment
    )

    paris = ZoneInfo("Europe/Paris")
    assert html == "|".join(
        [
            render(t("web.site_name"), "fr"),
            render(t("goal.count", goal=12345), "fr"),
            render(t("web.skip"), "fr"),
            shown.moment(moment),
            "".join(
                f"{render(t('goal.count', goal=n), 'fr', paris)}{render(t('web.skip'), 'fr')};"
                for n in (1, 2)
            ),
        ]
    )


def test_other_callables_still_get_what_they_ask_jinja_for() -> None:
    env = make_environment()
    seen: list[Any] = []

    @pass_context
    def needs_context(context: Context, name: str) -> str:
        seen.append(context)
        return f"{name}={context['who']}"

    env.loader = DictLoader({"t.html": "{{ needs(who) }} {{ plain(2) }}"})

    html = env.get_template("t.html").render(needs=needs_context, plain=lambda n: n * 2, who="x")

    assert html == "x=x 4"
    assert isinstance(seen[0], Context)


def test_a_share_link_encodes_each_value_every_time_alike() -> None:
    template = "https://example.org/share?text={text}&url={url}&on={instance}"
    values = {"text": "Save <the> river & co #1", "url": "https://c.example/c/AB?via=XY"}

    first = fill(template, instance="mastodon.social", **values)
    again = fill(template, instance="mastodon.social", **values)

    expected = template.format(
        text=quote(values["text"], safe=""),
        url=quote(values["url"], safe=""),
        instance="mastodon.social",
    )
    assert first == again == expected
