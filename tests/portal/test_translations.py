"""The Chinese catalogue is complete and the compiled .mo that ships matches it.

msgids are English, so English is complete by construction; these tests keep Chinese, the default
language, from falling behind.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PATTERN = re.compile(r"""{% translate (["'])(.+?)\1(?: context (["'])(.+?)\3)? %}""")


def key(entry: dict) -> str:
    """How gettext files a message: with its context in front, when it has one."""
    context = entry.get("msgctxt")
    return f"{context}\x04{entry['msgid']}" if context else entry["msgid"]


def read_po(path: Path) -> list[dict]:
    """A small reader for the subset of the .po format that makemessages writes."""
    entries, entry, key = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#,"):
            entry["flags"] = {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    return [e for e in read_po(LOCALE / "django.po") if e.get("msgid")]


def test_every_message_has_a_chinese_translation(po_entries):
    untranslated = [e["msgid"] for e in po_entries if not (e.get("msgstr") or e.get("msgstr[0]"))]
    assert untranslated == []
    assert [e["msgid"] for e in po_entries if "fuzzy" in e.get("flags", ())] == []


def test_the_compiled_catalogue_matches_the_po_file(po_entries):
    with (LOCALE / "django.mo").open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    for e in po_entries:
        if "msgid_plural" in e:
            assert catalog[(key(e), 0)] == e["msgstr[0]"], e["msgid"]
        else:
            assert catalog[key(e)] == e["msgstr"], e["msgid"]


def test_every_translate_tag_in_the_templates_is_in_the_catalogue(po_entries):
    known = {key(e) for e in po_entries}
    found = set()
    for template in (settings.BASE_DIR / "templates").rglob("*.html"):
        found |= {
            f"{m[4]}\x04{m[2]}" if m[4] else m[2]
            for m in PATTERN.finditer(template.read_text("utf-8"))
        }
    assert found, "no {% translate %} tags found: the pattern is out of date"
    assert sorted(found - known) == []
