"""The translation catalogue: complete in every language, and used keys all exist."""

from __future__ import annotations

import ast
import re
import string
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import nodes

from adapters.networks.mastodon import MASTODON_SPEC
from adapters.networks.sandbox import SANDBOX_SPEC
from adapters.networks.x import X_SPEC
from bot.dialog import TEXT_STEPS, Step
from bot.domain.campaign import ALLOWED_TRANSITIONS, CampaignStatus
from bot.domain.networks import DeliveryMode
from bot.domain.pledge import PledgeStatus
from bot.domain.text import Text, t
from bot.i18n import (
    FALLBACK,
    LOCALES_DIR,
    Entry,
    Plural,
    _flatten,
    catalogue,
    format_number,
    gettext,
    pick_from_accept_language,
    pick_language,
    plural_categories,
    render,
    supported_languages,
)
from bot.progress import MILESTONES
from bot.web.rendering import TEMPLATES, make_environment

BOT = LOCALES_DIR.parent
KEY_CALLS = {
    "t",
    "Text",
    "DomainError",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "NotAllowed",
    "__init__",  # super().__init__("error.stale")
}
KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*\.(?!(?:html|css|js|json|toml|txt|sql|py)$)[a-z0-9_]+$")


def _file_keys(path: Path) -> dict[str, Entry]:
    with path.open("rb") as handle:
        return dict(_flatten(tomllib.load(handle)))


def _forms(entry: Entry) -> list[str]:
    return list(entry.forms.values()) if isinstance(entry, Plural) else [entry]


def _placeholders(entry: Entry) -> set[str]:
    return {
        name
        for template in _forms(entry)
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def _sources() -> list[Path]:
    return sorted(BOT.rglob("*.py"))


def _code_sources() -> list[Path]:
    return sorted([*BOT.rglob("*.py"), *(BOT.parent / "adapters").rglob("*.py")])


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _used_keys() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(literal keys, f-string key patterns) used in bot/, each with where it is used."""
    literal: set[tuple[str, str]] = set()
    patterns: set[tuple[str, str]] = set()
    sections = {key.split(".")[0] for key in catalogue("en")}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(BOT.parent))
        in_f_strings = {
            id(part)
            for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            for part in node.values
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in KEY_CALLS and node.args:
                first = node.args[0]
                if isinstance(first, ast.JoinedStr):
                    regex = "".join(
                        re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z0-9_]+"
                        for part in first.values
                    )
                    patterns.add((regex, where))
                elif (
                    isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and KEY_SHAPE.match(first.value)
                ):
                    literal.add((first.value, where))
            elif (
                isinstance(node, ast.Constant)
                and id(node) not in in_f_strings
                and isinstance(node.value, str)
                and KEY_SHAPE.match(node.value)
                and node.value.split(".")[0] in sections
            ):
                literal.add((node.value, where))  # keys chosen in a variable first
    return literal, patterns


def test_there_are_two_languages() -> None:
    assert set(supported_languages()) >= {"en", "fr"}


@pytest.mark.parametrize("language", ["fr"])
def test_every_catalogue_file_has_the_same_keys_in_every_language(language: str) -> None:
    english_files = sorted(p.name for p in (LOCALES_DIR / "en").glob("*.toml"))
    other_files = sorted(p.name for p in (LOCALES_DIR / language).glob("*.toml"))
    assert other_files == english_files
    for name in english_files:
        english = _file_keys(LOCALES_DIR / "en" / name)
        other = _file_keys(LOCALES_DIR / language / name)
        assert sorted(set(english) - set(other)) == [], f"missing in {language}/{name}"
        assert sorted(set(other) - set(english)) == [], f"only in {language}/{name}"


@pytest.mark.parametrize("language", ["fr"])
def test_placeholders_match_english(language: str) -> None:
    english, other = catalogue("en"), catalogue(language)
    wrong = {
        key: (sorted(_placeholders(english[key])), sorted(_placeholders(other[key])))
        for key in english
        if key in other and _placeholders(english[key]) != _placeholders(other[key])
    }
    assert wrong == {}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_template_formats(language: str) -> None:
    for key, entry in catalogue(language).items():
        for template in _forms(entry):
            values = dict.fromkeys(_placeholders(template), "x")
            template.format_map(values)  # a stray brace would raise here
            assert template.strip(), key


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_plural_text_has_exactly_the_forms_its_language_tells_apart(language: str) -> None:
    needed = plural_categories(language)
    plurals = {k: e for k, e in catalogue(language).items() if isinstance(e, Plural)}
    assert len(plurals) > 20  # the catalogue does use plural texts
    wrong = {k: sorted(e.forms) for k, e in plurals.items() if set(e.forms) != needed}
    assert wrong == {}, f"{language} needs exactly {sorted(needed)}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_plural_text_is_picked_by_one_of_its_own_placeholders(language: str) -> None:
    english = catalogue("en")
    wrong = {
        key: entry.selector
        for key, entry in catalogue(language).items()
        if isinstance(entry, Plural) and entry.selector not in _placeholders(english[key])
    }
    assert wrong == {}


NOUN_AFTER_COUNT = re.compile(
    r"\{\w+\} (?:de |d')?(?:supporters?|soutiens?|characters?|caractères?|minutes?|"
    r"followers?|abonnés?|pledges?|accounts?|comptes?)\b|\(s\)"
)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_count_next_to_a_noun_is_always_a_plural_text(language: str) -> None:
    singular_only = sorted(
        key
        for key, entry in catalogue(language).items()
        if isinstance(entry, str) and NOUN_AFTER_COUNT.search(entry)
    )
    assert singular_only == []


def _plural_calls() -> list[tuple[str, frozenset[str], str]]:
    """(key, parameter names, where) of every call that names a plural key and its values.

    Python calls in bot/ and adapters/ (``t("key", n=…)``; calls with ``**params`` are
    left out) and the templates' ``_("key", n=…)``.
    """
    plurals = {k for k, e in catalogue("en").items() if isinstance(e, Plural)}
    calls: list[tuple[str, frozenset[str], str]] = []
    for path in _code_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and _call_name(node) in KEY_CALLS and node.args):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and first.value in plurals):
                continue
            if any(keyword.arg is None for keyword in node.keywords):
                continue
            names = frozenset(str(keyword.arg) for keyword in node.keywords)
            calls.append((first.value, names, str(path.relative_to(BOT.parent))))
    env = make_environment()
    for path in sorted(TEMPLATES.glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args):
                continue
            first = call.args[0]
            if isinstance(first, nodes.Const) and first.value in plurals:
                names = frozenset(keyword.key for keyword in call.kwargs)
                calls.append((first.value, names, path.name))
    return calls


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_code_passes_the_number_that_picks_each_plural_form(language: str) -> None:
    calls = _plural_calls()
    assert {where for _, _, where in calls} >= {"_progress.html", "bot/services/cards.py"}
    entries = catalogue(language)
    missing = sorted(
        f"{key} needs {entries[key].selector} ({where})"  # type: ignore[union-attr]
        for key, names, where in calls
        if entries[key].selector not in names  # type: ignore[union-attr]
    )
    assert missing == []


@pytest.mark.parametrize(
    ("number", "english", "french"),
    [
        (0, "0 supporters", "0 soutien"),
        (1, "1 supporter", "1 soutien"),
        (2, "2 supporters", "2 soutiens"),
        (1_000_000, "1,000,000 supporters", "1\u202f000\u202f000 de soutiens"),
    ],
)
def test_render_picks_the_form_by_each_languages_rule(
    number: int, english: str, french: str
) -> None:
    assert render(t("goal.count", goal=number), "en") == english
    assert render(t("goal.count", goal=number), "fr") == french


def test_a_plural_text_in_english_fallback_follows_english_rules() -> None:
    # Portuguese, like French, says "0" in the singular; no Portuguese catalogue here.
    assert render(t("goal.count", goal=0), "pt") == "0 supporters"
    assert render(t("goal.count", goal=1), "pt") == "1 supporter"


def test_a_plural_text_without_its_number_shows_the_other_form() -> None:
    assert render(t("goal.count", goal="many"), "en") == "many supporters"
    assert render(t("goal.count", goal=True), "fr") == "True soutiens"


def test_a_plural_table_must_name_the_parameter_that_picks_the_form() -> None:
    with pytest.raises(ValueError, match=r"goal\.count"):
        _flatten({"goal": {"count": {"one": "{n} supporter", "other": "{n} supporters"}}})


def test_every_literal_key_used_in_the_code_exists_in_english() -> None:
    literal, _ = _used_keys()
    assert len(literal) > 50  # the scan itself works
    english = catalogue("en")
    assert sorted(f"{key} ({where})" for key, where in literal if key not in english) == []


def test_every_f_string_key_matches_some_english_key() -> None:
    _, patterns = _used_keys()
    assert patterns
    english = catalogue("en")
    unmatched = [
        f"{regex} ({where})"
        for regex, where in patterns
        if not any(re.fullmatch(regex, key) for key in english)
    ]
    assert unmatched == []


def _expansions() -> list[str]:
    keys = [f"status.{s.value}" for s in CampaignStatus]
    keys += [f"card.status_{s.value}" for s in CampaignStatus]
    keys += [
        f"campaign.cannot_{new.value}"
        for targets in ALLOWED_TRANSITIONS.values()
        for new in targets
    ]
    keys += [f"pledge.cannot_{s.value}" for s in PledgeStatus]
    keys += [f"pledge_status.{s.value}" for s in PledgeStatus]
    keys += [spec.name_key for spec in (X_SPEC, MASTODON_SPEC, SANDBOX_SPEC)]
    keys += [f"supporter.delivery_{m.value}" for m in DeliveryMode]
    keys += [f"announce.milestone_{m}" for m in MILESTONES]
    keys += [f"dialog.ask_{s.value}" for s in TEXT_STEPS]
    keys += [f"field.{s.value}" for s in (*TEXT_STEPS, Step.NETWORKS)]
    return sorted(set(keys))


@pytest.mark.parametrize("key", _expansions())
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_expansion_of_an_f_string_key_exists(key: str, language: str) -> None:
    assert key in catalogue(language)


def test_a_duplicate_key_across_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.i18n as i18n

    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.toml").write_text('[same]\nkey = "one"\n', encoding="utf-8")
    (tmp_path / "en" / "b.toml").write_text('[same]\nkey = "two"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"same\.key"):
            i18n.catalogue("en")
    finally:
        monkeypatch.undo()
        i18n.catalogue.cache_clear()


def test_render_fills_placeholders_in_each_language() -> None:
    text = t("title.too_short", min=3)
    assert render(text, "en") == "The title is too short: use at least 3 characters."
    assert "3" in render(text, "fr") and render(text, "fr") != render(text, "en")


def test_render_shows_moments_in_the_given_time_zone() -> None:
    text = t("card.launch", launch_at=datetime(2030, 7, 14, 16, 0, tzinfo=UTC))
    assert render(text, "en", ZoneInfo("Europe/Paris")) == "🚀 Launch: 2030-07-14 18:00 CEST"
    assert render(text, "en") == "🚀 Launch: 2030-07-14 16:00 UTC"


def test_render_translates_nested_texts() -> None:
    text = t("promote.not_live", ref="K7QX2M", status=t("status.rejected"))
    assert render(text, "en").endswith("it is rejected.")
    assert catalogue("fr")["status.rejected"] in render(text, "fr")


def test_unknown_language_falls_back_to_english_and_unknown_key_to_itself() -> None:
    assert render(t("button.cancel"), "de") == "Cancel"
    assert render(Text("no.such_key"), "fr") == "no.such_key"


def test_missing_parameter_shows_the_template_rather_than_crashing() -> None:
    assert render(t("campaign.not_found"), "en") == catalogue("en")["campaign.not_found"]
    assert render(t("title.too_short"), "en") == (
        "The title is too short: use at least {min} characters."
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("FR-fr", "fr"),
        ("de-DE, fr;q=0.8, en;q=0.5", "fr"),
        ("en;q=0.4, fr;q=0.9", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de, es", "en"),
        ("*", "en"),
        ("fr ; q=0.9, en ; q=0.5", "fr"),
        ("en;q=0, fr;q=0.1", "fr"),  # q=0 means not English
        ("en;q=abc, fr;q=0.2", "fr"),
    ],
)
def test_accept_language_picking(header: str | None, expected: str) -> None:
    assert pick_from_accept_language(header) == expected


def test_accept_language_default_when_nothing_fits() -> None:
    assert pick_from_accept_language("de", default="fr") == "fr"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("fr_FR", "fr"),
        ("en-GB", "en"),
        ("pt-br", "en"),
        (None, "en"),
    ],
)
def test_platform_language_codes(code: str | None, expected: str) -> None:
    assert pick_language(code) == expected


def test_platform_language_default() -> None:
    assert pick_language("ja", default="fr") == "fr"
    assert pick_language("ja", default="xx") == "en"


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", "👥 12,345 / 100,000 supporters · reach 1,234,567"),
        ("fr", "👥 12\u202f345 / 100\u202f000 soutiens · portée 1\u202f234\u202f567"),
    ],
)
def test_whole_numbers_are_written_the_languages_way(language: str, shown: str) -> None:
    figures = t("card.figures", bar="", supporters=12_345, goal=100_000, reach=1_234_567)
    assert render(figures, language) == f"\n{shown}"
    assert format_number(12_345, language) == shown.split(" / ")[0].removeprefix("👥 ")


def test_numbers_in_a_text_shown_in_english_fallback_are_written_the_english_way() -> None:
    assert render(t("goal.count", goal=12_345), "pt") == "12,345 supporters"
    assert render(t("goal.count", goal=-1234), "en") == "-1,234 supporters"


def test_preload_reads_every_catalogue_and_locale_before_anyone_asks() -> None:
    import bot.i18n as i18n

    i18n.catalogue.cache_clear()
    i18n._locale.cache_clear()
    i18n.preload()
    languages = i18n.supported_languages()
    assert i18n.catalogue.cache_info().currsize == len(languages) >= 2
    assert i18n._locale.cache_info().currsize >= len(languages)


@pytest.mark.parametrize("language", ["en", "fr", "pt"])
def test_a_text_without_parameters_is_its_catalogue_wording_each_time(language: str) -> None:
    for key in [*catalogue(FALLBACK), "no.such.key"]:
        wording = gettext(key, language)
        try:
            expected = wording.format_map({})
        except (KeyError, IndexError, ValueError):
            expected = wording
        assert render(Text(key), language) == expected, key
        assert render(t(key), language, ZoneInfo("Asia/Tokyo")) == expected, key  # no moment


def test_a_number_is_written_the_same_each_time_it_is_shown() -> None:
    shown = [(n, language) for n in (0, 7, 12_345, -1234) for language in ("en", "fr")]
    first = [format_number(n, language) for n, language in shown]
    again = [format_number(n, language) for n, language in shown]
    assert first == again == ["0", "0", "7", "7", "12,345", "12\u202f345", "-1,234", "-1\u202f234"]
