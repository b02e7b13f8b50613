"""The English interface (gettext) and the completeness of its message catalog.

The source is Chinese first; English lives in locale/en/LC_MESSAGES/django.po and the
compiled django.mo committed next to it. The catalog tests fail when a string has no
English, so a new user-facing string cannot silently reach English users in Chinese.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from digitalcity.identity.tests.factories import Personas

PACKAGE_DIR = Path(django_settings.BASE_DIR)
PO_PATH = PACKAGE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

HOW_TO_FIX = (
    "Every user-facing string needs an English translation. From src/digitalcity run\n"
    "    ../../.venv/bin/digitalcity makemessages -l en --ignore 'tests/*' --ignore '*/tests/*'\n"
    "then write the English in each empty msgstr of locale/en/LC_MESSAGES/django.po (keep the\n"
    "%(name)s placeholders; check any '#, fuzzy' guess and delete that line), and run\n"
    "    ../../.venv/bin/digitalcity compilemessages -l en\n"
    "Commit both django.po and django.mo."
)

# What makemessages extracts: xgettext's Python keywords plus the ones Django adds.
EXTRACTED_NAMES = frozenset(
    {
        "_",
        "gettext",
        "gettext_lazy",
        "gettext_noop",
        "ngettext",
        "ngettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "npgettext",
        "npgettext_lazy",
    }
)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdrifx%]")
_PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    def where(self) -> str:
        return f"{' '.join(self.references) or '?'}  {self.msgid!r}"


def _unquote(text: str) -> str:
    body = text.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: _PO_ESCAPES.get(m[1], m[0]), body)


def read_po(path: Path) -> list[PoEntry]:
    """The live entries of a .po file (not the header, not obsolete `#~` entries)."""
    entries: list[PoEntry] = []
    entry = PoEntry()
    key = ""
    values: dict[str, str] = {}

    def finish() -> None:
        nonlocal entry, values, key
        if values:
            entry.msgid = values.get("msgid", "")
            entry.msgid_plural = values.get("msgid_plural", "")
            entry.msgctxt = values.get("msgctxt")
            plural_keys = sorted(k for k in values if k.startswith("msgstr["))
            entry.msgstrs = [values[k] for k in plural_keys] or [values.get("msgstr", "")]
            if entry.msgid:  # the empty msgid is the header
                entries.append(entry)
        entry, values, key = PoEntry(), {}, ""

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry.references.extend(line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            values[key] += _unquote(line)
        else:
            key, _sep, rest = line.partition(" ")
            values[key] = _unquote(rest)
    finish()
    return entries


def untranslated(entries: list[PoEntry]) -> list[PoEntry]:
    # Django never uses a fuzzy translation, so for users it is as missing as an empty one.
    return [e for e in entries if "fuzzy" in e.flags or not all(e.msgstrs)]


def chinese_left(html: str) -> list[str]:
    """Chinese text on a page other than what is Chinese on purpose: decorative glyphs
    hidden from screen readers and the language button that offers Chinese in Chinese."""
    html = re.sub(r'<(\w+)\b[^>]*\baria-hidden="true"[^>]*>[^<]*</\1>', "", html)
    html = re.sub(r'<(\w+)\b[^>]*\blang="zh-hans"[^>]*>[^<]*</\1>', "", html)
    return _CJK.findall(html)


def portal_nav(html: str) -> str:
    return html.split('<nav class="portal-nav"', 1)[1].split("</nav>", 1)[0]


@pytest.fixture(autouse=True)
def _keep_the_default_language() -> Iterator[None]:
    # LocaleMiddleware activates each request's language on this thread and never resets
    # it: without this, every test run after these would see English from gettext.
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def english() -> Client:
    """A visitor who chose English: the language switch's cookie, as set_language sets it
    (the browser's Accept-Language alone does not switch the portal to English)."""
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def _city_in_english(settings: Any) -> None:
    # The city and sponsor names are the installation's data, shown as configured; giving
    # them in English leaves only our own strings to check for leftover Chinese.
    settings.CITY_NAME = "Demo City"
    settings.DC_SITE_SPONSOR = "General Office of the Demo City People's Government"
    settings.DC_SITE_OPERATOR = "Demo City Big Data Bureau"


@pytest.mark.usefixtures("_city_in_english")
def test_portal_home_is_in_english_for_a_visitor_who_chose_english(
    english: Client, db: None
) -> None:
    response = english.get(reverse("web:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for text in (
        "Digital City Government Platform",
        "Services",
        "Government Information",
        "12345 Hotline",
        "Personal Services",
        "Notices and Announcements",
        "Government Service Hotline",
    ):
        assert text in html
    assert "办事服务" not in html
    nav = portal_nav(html)
    assert "Home" in nav
    assert _CJK.findall(nav) == []
    assert chinese_left(html) == []


@pytest.mark.usefixtures("_city_in_english")
@pytest.mark.parametrize(
    ("tab", "texts"),
    [
        ("password", ("Username / mobile number / ID card number", "Password")),
        ("sms", ("Mobile number", "SMS verification code", "Get code")),
    ],
)
def test_login_page_is_in_english_for_a_visitor_who_chose_english(
    english: Client, db: None, tab: str, texts: tuple[str, ...]
) -> None:
    response = english.get(reverse("identity:login"), {"tab": tab})
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("User Login", "Password login", "SMS code login", "Log in", *texts):
        assert text in html
    assert "用户登录" not in html
    assert _CJK.findall(portal_nav(html)) == []
    assert chinese_left(html) == []


def test_the_language_switch_keeps_english_for_later_pages_until_switched_back(
    client: Client, db: None
) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(reverse("web:home")).content.decode()
    assert "Government Information" in html
    assert "政务公开" not in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("web:home")).content.decode()
    assert "政务公开" in html
    assert "Government Information" not in html


def test_workbench_navigation_is_in_english_for_staff_who_chose_english(
    english: Client, personas: Personas
) -> None:
    english.force_login(personas.supervisor)
    html = english.get(reverse("web:workbench")).content.decode()
    nav = html.split('<ul class="wb-nav">', 1)[1].split("</ul>", 1)[0]
    assert "My Tasks" in nav
    assert "Supervision" in nav
    assert _CJK.findall(nav) == []
    assert "Government Workbench" in html


def test_every_message_in_the_catalog_has_an_english_translation() -> None:
    entries = read_po(PO_PATH)
    assert entries, f"{PO_PATH} has no messages"
    missing = untranslated(entries)
    assert not missing, (
        f"{len(missing)} message(s) in {PO_PATH.relative_to(PACKAGE_DIR)} have no English "
        "translation (empty or fuzzy):\n"
        + "\n".join(f"  {e.where()}" for e in missing)
        + "\n\n"
        + HOW_TO_FIX
    )


def test_translations_keep_the_placeholders_of_the_chinese() -> None:
    wrong = [
        f"  {e.where()} -> {text!r}"
        for e in read_po(PO_PATH)
        for text in e.msgstrs
        if text and sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(e.msgid))
    ]
    assert not wrong, "Placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_the_compiled_catalog_matches_the_po_file() -> None:
    with MO_PATH.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    entries = read_po(PO_PATH)
    missing = untranslated(entries)  # reported by the test above; never compiled
    stale = []
    for e in entries:
        if e.msgid_plural:
            got = [
                compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                if e.msgctxt is not None
                else compiled.ngettext(e.msgid, e.msgid_plural, n)
                for n in (1, 2)
            ]
        elif e.msgctxt is not None:
            got = [compiled.pgettext(e.msgctxt, e.msgid)]
        else:
            got = [compiled.gettext(e.msgid)]
        if e not in missing and got != e.msgstrs:
            stale.append(f"  {e.where()}")
    assert not stale, (
        f"{MO_PATH.relative_to(PACKAGE_DIR)} is older than django.po; run "
        "`../../.venv/bin/digitalcity compilemessages -l en` from src/digitalcity:\n"
        + "\n".join(stale)
    )


def test_every_translatable_string_in_the_source_is_in_the_catalog(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs makemessages on a copy of the source, so a string added without updating the
    catalog fails here rather than showing Chinese to English users."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    copy = tmp_path / "digitalcity"
    shutil.copytree(
        PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "tests", "static")
    )
    # makemessages writes into LOCALE_PATHS[0]: point it at the copy, never the source.
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], ignore_patterns=["tests/*"], verbosity=0)
    missing = untranslated(read_po(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    assert not missing, (
        f"{len(missing)} translatable string(s) in the source have no English translation "
        "in the committed catalog:\n"
        + "\n".join(f"  {e.where()}" for e in missing)
        + "\n\n"
        + HOW_TO_FIX
    )


def test_translation_functions_are_imported_under_names_makemessages_extracts() -> None:
    """`gettext_lazy as _l` hides every string of its module from makemessages: none is
    ever translated, and the catalog tests above cannot see them."""
    hidden: list[str] = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if {"tests", "migrations"} & set(relative.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                hidden.extend(
                    f"  {relative}:{node.lineno}  {alias.name} as {alias.asname}"
                    for alias in node.names
                    if alias.name in EXTRACTED_NAMES
                    and alias.asname is not None
                    and alias.asname not in EXTRACTED_NAMES
                )
    assert not hidden, (
        "makemessages does not extract strings marked with these names; import the function "
        "as `_` or under its own name (e.g. `gettext_lazy`), then run makemessages and "
        "translate:\n" + "\n".join(hidden)
    )
