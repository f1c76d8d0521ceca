"""Lists kept in Excel: the machinery every import and export of the back office shares.

Staff keep their facilities, compounds, idle rooms and (the city administrator) communities in
spreadsheets. Each such list is a ``Layout`` (the sheet's name, its columns, what its guide says)
and a planner of its own (``facilities.sheets``, ``communities.sheets`` …) that reads a file's
rows into a ``Plan``: every row new, changed (column by column, before and after), unchanged, or
bad, with its row number as the spreadsheet shows it, its column and the reason. The planner's
``apply`` writes the whole plan or nothing. This module holds what does not depend on the list:

- reading an XLSX or CSV file (``read_sheet``): the sheet named as the layout says (else the first),
  a title line or two above the headers, Chinese or English headers, GBK CSV files from Excel,
  limits against zip bombs and runaway formatting;
- the plan's shape (``RowPlan``, ``Plan``) and its words (``NEW`` … ``BAD``);
- writing (``to_csv``, ``to_xlsx`` with the guide sheet): every cell through ``portal.lib.cells``,
  so text that residents or staff typed stays text;
- points (``read_point``, ``PointCheck``): the coordinate system column (WGS-84, GCJ-02 from
  高德/腾讯, BD-09 from 百度), conversion to WGS-84, and a point outside its district refused with
  its likely cause (``portal.lib.coords``).

Headers and cell words (是/否, the coordinate systems) are the sheet's format and stay Chinese
whatever the page language; English headers are accepted too.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import itertools
import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property

import openpyxl
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from portal.lib import cells, coords

# An upload of at most 5 MB and 10,000 rows by default: a district's whole list fits many times
# over, and a preview of that size still renders in seconds. A layout may allow more rows.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
# An XLSX is a zip archive: one that unpacks to far more than any sheet of the allowed rows needs
# is refused before openpyxl reads it (a "zip bomb" would otherwise fill the memory).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# Formatted but empty rows can run to Excel's last row; reading stops after this many in a row.
MAX_BLANK_RUN = 1000
HEADER_SEARCH_ROWS = 10  # a title line or two above the headers is fine
BATCH = 1000

GUIDE_TITLE = "说明"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

NEW, CHANGED, UNCHANGED, BAD = "new", "changed", "unchanged", "bad"

YES, NO = "是", "否"
EXAMPLE_PREFIX = "示例"  # the guide sheet's example row is named 示例：…
_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
_NO = {"否", "无", "没有", "n", "no", "false", "0", ""}
YES_OR_NO = _("是 or 否; empty means 否.")
DATE_GUIDE = _("A date such as 2026-05-01.")
# The same date formats whatever the page language: the sheet's format is fixed.
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
FILL_IN = _("Fill in this column.")
LIST_SPLIT = re.compile(r"[、,，/\s]+")

POINT = "point"  # the problem key of latitude and longitude together


class UnreadableFile(Exception):
    """A file that is no sheet we can read, or lacks columns; the messages say what to do."""

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


@dataclass(frozen=True)
class Column:
    key: str  # the model field, or the planner's own name for the column
    header: str  # the sheet's (Chinese) header
    aliases: tuple[str, ...]  # English headers also accepted, lower case
    guide: str  # how to fill it in, for the guide sheet
    example: object = ""
    required: bool = False  # the cell must be filled in
    optional: bool = False  # the column may be left out of a sheet altogether (read as empty)
    wide: bool = False  # a wide column in the workbook


@dataclass(frozen=True)
class Layout:
    """One list's sheet: its name in the workbook, its columns in order, and its guide."""

    title: str  # the sheet's name, which is also the file's
    columns: tuple[Column, ...]
    guide_heading: str
    guide_intro: str  # how the list is imported; may name the sheet as %(sheet)s
    max_rows: int = MAX_ROWS
    # The header that marks the header row (its key); a title line or two may stand above it.
    marker: str = "name"

    @cached_property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @cached_property
    def by_key(self) -> dict[str, Column]:
        return {c.key: c for c in self.columns}

    @cached_property
    def by_header(self) -> dict[str, Column]:
        return {
            header_key(name): column
            for column in self.columns
            for name in (column.header, *column.aliases)
        }


# --- Cells -----------------------------------------------------------------------------------


def clock(t: time, closing: bool = False) -> str:
    if closing and t == time(0):
        return "24:00"  # closing at midnight, as notices write it
    return f"{t:%H:%M:%S}" if t.second else f"{t:%H:%M}"


def cell_text(value) -> str:
    """A cell as the text it stands for: numbers without a needless ".0", dates as ISO, and
    text without the apostrophe ``portal.lib.cells`` puts before a would-be formula in a CSV."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.strip()
        if value[:1] == "'" and value[1:2] and value[1:2] in cells.FORMULA_START:
            return value[1:]
        return value
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return clock(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def yes_no(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered in _YES else False if lowered in _NO else None


def header_key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")").lower()


# --- Reading a file ------------------------------------------------------------------------


@dataclass
class Sheet:
    """A file's rows as text, ready to plan: what waits in the session between preview and
    confirm, so confirming does not read the file again."""

    headers: dict[str, str]  # column key → its header as the sheet writes it
    rows: list[tuple[int, dict[str, str]]]  # (row number as the spreadsheet shows it, cells)
    ignored: list[str] = field(default_factory=list)  # headers of columns we do not know

    def dumps(self) -> str:
        """Compressed JSON in base64: a 5,000-row sheet takes a few hundred KB."""
        data = json.dumps([self.headers, self.rows, self.ignored], ensure_ascii=False)
        return base64.b64encode(zlib.compress(data.encode())).decode("ascii")

    @classmethod
    def loads(cls, text: str) -> Sheet:
        headers, rows, ignored = json.loads(zlib.decompress(base64.b64decode(text)))
        return cls(headers, [(number, cells) for number, cells in rows], ignored)


def _too_many_rows(layout: Layout) -> UnreadableFile:
    return UnreadableFile(
        gettext("The sheet has more than %(max)s rows: split it into several files.")
        % {"max": f"{layout.max_rows:,}"}
    )


def _xlsx_rows(content: bytes, layout: Layout):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise UnreadableFile(
                gettext("This workbook is too large: split it into several files.")
            )
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise UnreadableFile(
            gettext(
                "This file cannot be read as an Excel workbook (.xlsx). Open it in Excel and save "
                "it again as .xlsx, or save it as CSV."
            )
        ) from None
    try:
        title = layout.title
        sheet = book[title] if title in book.sheetnames else book.worksheets[0]
        # Only as many columns as we could know: a stray cell far to the right costs nothing.
        yield from sheet.iter_rows(max_col=len(layout.columns) + 20, values_only=True)
    finally:
        book.close()


def _csv_rows(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in Chinese saves "CSV" in the system code page: GBK, which GB18030 contains.
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise UnreadableFile(
                gettext("This CSV file's text cannot be read: save it from Excel, or as UTF-8.")
            ) from None
    yield from csv.reader(io.StringIO(text, newline=""))


def _map_headers(
    texts: list[str], layout: Layout
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """(column key → index, column key → header, unknown headers); every column not marked
    optional must be there. An optional column left out reads as empty cells, under its header."""
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for i, text in enumerate(texts):
        if not text:
            continue
        column = layout.by_header.get(header_key(text))
        if column is None:
            ignored.append(text)
        elif column.key in index:
            problems.append(
                gettext("The column “%(column)s” appears twice; keep one.") % {"column": text}
            )
        else:
            index[column.key], headers[column.key] = i, text
    missing = [c.header for c in layout.columns if c.key not in index and not c.optional]
    if missing:
        problems.append(
            gettext(
                "These columns are missing: %(columns)s. Start from the blank template or an "
                "export, which have every column."
            )
            % {"columns": "、".join(missing)}
        )
    if problems:
        raise UnreadableFile(*problems)
    for column in layout.columns:
        headers.setdefault(column.key, column.header)
    return index, headers, ignored


def read_sheet(content: bytes, filename: str, layout: Layout) -> Sheet:
    """The rows of the sheet named as ``layout`` says (else the first) or of a CSV file, blank
    rows left out, each as {column key: text}. The header row may have a title line or two above
    it."""
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        source = _xlsx_rows(content, layout)
    elif lower.endswith(".csv"):
        source = _csv_rows(content)
    else:
        raise UnreadableFile(
            gettext("Choose an .xlsx or .csv file (an old .xls: save it as .xlsx in Excel).")
        )
    marker = layout.by_key[layout.marker]
    marks = {header_key(name) for name in (marker.header, *marker.aliases)}
    index: dict[str, int] | None = None
    keys = [c.key for c in layout.columns]
    sheet = Sheet(headers={}, rows=[])
    blank_run = 0
    try:
        for number, values in enumerate(source, start=1):
            texts = [cell_text(v) for v in values]
            if not any(texts):
                blank_run += 1
                if blank_run > MAX_BLANK_RUN:
                    break
                continue
            blank_run = 0
            if index is None:
                if number > HEADER_SEARCH_ROWS:
                    break
                if {header_key(t) for t in texts} & marks:
                    index, sheet.headers, sheet.ignored = _map_headers(texts, layout)
                continue
            if len(sheet.rows) == layout.max_rows:
                raise _too_many_rows(layout)
            row = {}
            for key in keys:
                i = index.get(key)
                row[key] = texts[i] if i is not None and i < len(texts) else ""
            sheet.rows.append((number, row))
    except (csv.Error, SyntaxError, ValueError, KeyError):  # SyntaxError: the XML's ParseError
        raise UnreadableFile(
            gettext("This file is damaged and cannot be read. Save it again from Excel.")
        ) from None
    if index is None:
        raise UnreadableFile(
            gettext(
                "No header row found: the first row must hold the column names (%(columns)s …). "
                "Start from the blank template or an export."
            )
            % {"columns": ", ".join(layout.headers[:3])}
        )
    if not sheet.rows:
        raise UnreadableFile(gettext("The sheet has no rows under its headers."))
    return sheet


# --- What an import will do ----------------------------------------------------------------


@dataclass
class RowPlan:
    """One row of a sheet and what importing it would do. Planners add what they need."""

    number: int  # the row number the spreadsheet shows
    cells: dict[str, str]
    action: str = BAD
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column key, reason)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (header, before, after)

    @property
    def name(self) -> str:
        return self.cells.get("name", "")

    def bad(self, key: str, message: str) -> None:
        self.problems.append((key, message))

    @property
    def told(self) -> set[str]:
        return {key for key, _why in self.problems}


@dataclass
class Plan:
    filename: str
    rows: list = field(default_factory=list)  # RowPlan or a planner's subclass of it
    file_problems: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_problems and not any(r.action == BAD for r in self.rows)

    def of(self, action: str) -> list:
        return [r for r in self.rows if r.action == action]

    @property
    def new_rows(self) -> list:
        return self.of(NEW)

    @property
    def changed_rows(self) -> list:
        return self.of(CHANGED)

    @property
    def unchanged_rows(self) -> list:
        return self.of(UNCHANGED)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(r.action for r in self.rows)
        return {a: counted[a] for a in (NEW, CHANGED, UNCHANGED, BAD)}

    def header(self, key: str) -> str:
        if key == POINT:
            return f"{self.headers['latitude']}、{self.headers['longitude']}"
        return self.headers.get(key, key)

    @property
    def problems(self) -> list[tuple[int, str, str, str]]:
        """(row number, column, reason, name) of every problem, in sheet order."""
        return [
            (r.number, self.header(key), why, r.name) for r in self.rows for key, why in r.problems
        ]


def compare(
    layout: Layout, plan: Plan, row: RowPlan, before: Sequence, after: Sequence
) -> list[str]:
    """Set ``row.changes`` from the row's cells before and after, in column order, and return
    the keys of the columns that change."""
    changed = [
        (column.key, cell_text(old), cell_text(new))
        for column, old, new in zip(layout.columns, before, after, strict=True)
        if cell_text(old) != cell_text(new)
    ]
    row.changes = [(plan.header(key), old, new) for key, old, new in changed]
    return [key for key, _old, _new in changed]


# --- Points --------------------------------------------------------------------------------

# The coordinate system column: the sheet writes the first word of each; people write any.
SYSTEM_WORDS = {
    coords.System.WGS84: ("WGS-84", "wgs84", "gps", "wgs"),
    coords.System.GCJ02: ("GCJ-02", "gcj02", "gcj", "高德", "腾讯", "火星坐标", "amap", "tencent"),
    coords.System.BD09: ("BD-09", "bd09", "bd", "百度", "baidu"),
}
_SYSTEM_BY_WORD = {
    header_key(word).replace("-", ""): system
    for system, words in SYSTEM_WORDS.items()
    for word in words
}
SYSTEM_GUIDE = _(
    "The map app the point came from: WGS-84 (GPS), GCJ-02 (高德, 腾讯) or BD-09 (百度). Empty "
    "means WGS-84. Points are stored converted to WGS-84, and an export gives them back in the "
    "system they were given in."
)
# A point read back within this of the stored one is the stored one: exports write seven
# decimals (1 cm), and converting back and forth costs a fraction of a millimetre.
SAME_POINT_DEG = 1e-6


def system_word(system: str) -> str:
    return SYSTEM_WORDS[coords.System(system)][0]


def read_system(text: str) -> coords.System | None:
    """The coordinate system a cell names; empty is WGS-84; None for words we do not know."""
    if not text:
        return coords.System.WGS84
    return _SYSTEM_BY_WORD.get(header_key(text).replace("-", ""))


def unknown_system(text: str) -> str:
    return gettext("Unknown coordinate system “%(text)s”: write WGS-84, GCJ-02 or BD-09.") % {
        "text": text
    }


def point_cells(lat: float, lng: float, system: str) -> tuple[float, float, str]:
    """A stored (WGS-84) point as a sheet writes it: in the system it was given in."""
    if system == coords.System.WGS84:
        return lat, lng, system_word(system)
    shown_lat, shown_lng = coords.from_wgs84(lat, lng, system)
    return round(shown_lat, 7), round(shown_lng, 7), system_word(system)


def settle_point(obj, lat: float, lng: float, system: str, before=None) -> None:
    """Set ``obj``'s point from numbers given in ``system``: converted to WGS-84 and the system
    recorded; a point that reads back as ``before``'s own (an export imported again) keeps
    ``before``'s numbers and system exactly."""
    wgs_lat, wgs_lng = coords.to_wgs84(lat, lng, system)
    if before is not None and (
        abs(wgs_lat - before.latitude) <= SAME_POINT_DEG
        and abs(wgs_lng - before.longitude) <= SAME_POINT_DEG
        and system == before.point_system
    ):
        obj.latitude, obj.longitude, obj.point_system = (
            before.latitude,
            before.longitude,
            before.point_system,
        )
        return
    obj.latitude, obj.longitude, obj.point_system = wgs_lat, wgs_lng, system


def read_number(text: str) -> float | None:
    try:
        value = float(text.replace("，", ".").replace("。", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


# --- Writing -------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def to_csv(layout: Layout, rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to open it as UTF-8 rather than GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(layout.headers)
    writer.writerows(
        cells.csv_row(v if cells.is_number(v) else cell_text(v) for v in row) for row in rows
    )
    return out.getvalue().encode("utf-8-sig")


# (heading, [(cells of a line) …]) of the guide's lists: categories, statuses, codes …
GuideList = tuple[str, list[Sequence]]


def to_xlsx(
    layout: Layout, rows: Sequence[Sequence], lists: Callable[[], list[GuideList]] | None = None
) -> bytes:
    """The list's sheet (headers, then one thing a row) and the guide sheet 说明."""
    # An ordinary workbook records the sheet's size and shares repeated strings, so reading it
    # back takes a third less time; beyond what one import takes, write-only mode keeps the
    # memory flat.
    book = openpyxl.Workbook(write_only=len(rows) > layout.max_rows)
    for default in book.worksheets:
        book.remove(default)
    sheet = book.create_sheet(layout.title)
    sheet.freeze_panes = "A2"
    for i, column in enumerate(layout.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = 36 if column.wide else 14
    sheet.append(cells.xlsx_row(sheet, layout.headers, font=_BOLD))
    for row in rows:
        sheet.append(cells.xlsx_row(sheet, row))
    guide(book, layout, lists() if lists else [])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def guide(book, layout: Layout, lists: list[GuideList]) -> None:
    """How to fill in each column, the words the columns accept, and an example row. Never
    imported: the importer reads the list's own sheet."""
    sheet = book.create_sheet(GUIDE_TITLE)
    for letter, width in zip("ABCD", (16, 8, 80, 40), strict=True):
        sheet.column_dimensions[letter].width = width

    def heading(*values):
        sheet.append(cells.xlsx_row(sheet, values, font=_BOLD))

    def line(*values):
        sheet.append(cells.xlsx_row(sheet, values, alignment=_WRAP))

    heading(str(layout.guide_heading))
    line(str(layout.guide_intro) % {"sheet": layout.title})
    sheet.append([])
    heading(
        gettext("Column"), gettext("Required"), gettext("How to fill it in"), gettext("Example")
    )
    for column in layout.columns:
        line(column.header, YES if column.required else "", str(column.guide), column.example)
    for title, lines in lists:
        sheet.append([])
        heading(title)
        for values in lines:
            line(*values)
    sheet.append([])
    heading(gettext("An example row (rows on this sheet are never imported)"))
    heading(*layout.headers)
    sheet.append(cells.xlsx_row(sheet, [c.example for c in layout.columns]))


# --- Rows of a model -------------------------------------------------------------------------


@functools.cache
def form_fields(model, names: tuple[str, ...]) -> dict[str, forms.Field]:
    """The form fields a ModelForm of ``names`` would have, built once (a form per row would
    deep-copy them all), dates in the sheet's formats, and our own word for a missing value."""
    fields = forms.fields_for_model(model, fields=list(names))
    for name, form_field in fields.items():
        if isinstance(form_field, forms.DateField):
            fields[name] = form_field = forms.DateField(
                required=form_field.required, input_formats=DATE_FORMATS
            )
        form_field.error_messages["required"] = FILL_IN
    return fields


def clean_into(instance, data: dict[str, object], names: Sequence[str]) -> dict[str, list[str]]:
    """Set ``data``'s values on ``instance`` as a ModelForm of ``names`` would, and return the
    errors by field: each value through its form field, then the model fields' own checks
    (validators, choices, lengths). Foreign keys and what the planner sets itself are left out of
    the model's checks, which would cost a query a row."""
    errors: dict[str, list[str]] = {}
    for name, form_field in form_fields(type(instance), tuple(names)).items():
        try:
            setattr(instance, name, form_field.clean(data[name]))
        except ValidationError as error:
            errors[name] = error.messages
    others = [f.name for f in instance._meta.concrete_fields if f.name not in names]
    try:
        instance.clean_fields(exclude=[*others, *errors])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, messages)
    return errors


def update_rows(objects: Sequence, names: Sequence[str]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` per thousand rows of one model. Django's bulk_update
    writes a CASE per row and field instead: for 5,000 rows of 22 fields it took 41 s here, this
    1.9 s. Django's cursor attaches the audit trail's context."""
    if not objects:
        return
    model = type(objects[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # Cast each column back to its type: VALUES of quoted literals are text.
    assignments = ", ".join(
        f"{quote(f.column)} = v.{quote(f.column)}::{f.db_type(connection)}" for f in fields
    )
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {{values}}) AS v(id, {columns}) WHERE t.id = v.id"
    )
    one_row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    with connection.cursor() as cursor:
        for batch in itertools.batched(objects, BATCH, strict=False):
            params = [
                value
                for obj in batch
                for value in (
                    obj.pk,
                    *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields),
                )
            ]
            cursor.execute(sql.format(values=", ".join([one_row] * len(batch))), params)


def insert_rows(model, names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """One ``INSERT … SELECT * FROM unnest(…)`` per thousand rows of one model, each row the
    values of the fields ``names`` in that order, for rows whose keys nobody needs afterwards.
    Django's bulk_create builds a model instance and a placeholder for every value instead: for a
    sheet's 40,000 gates it took 1.8 s here, this 0.7 s. A field left out takes its database
    default, so it must have one. Django's cursor attaches the audit trail's context."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"
    with connection.cursor() as cursor:
        for batch in itertools.batched(rows, BATCH, strict=False):
            params = [
                [f.get_db_prep_save(value, connection) for value in values]
                for f, values in zip(fields, zip(*batch, strict=True), strict=True)
            ]
            cursor.execute(sql, params)


def read_point(row: RowPlan, instance, before, prefix: str = "") -> tuple | None:
    """The row's point (columns ``latitude``, ``longitude`` and ``point_system``, each with
    ``prefix``) set on ``instance`` in WGS-84, its system recorded; (lat, lng, system) as given,
    for ``PointCheck``, or None with the problems on the row."""
    lat_key, lng_key, system_key = (
        f"{prefix}{k}" for k in ("latitude", "longitude", "point_system")
    )
    numbers = []
    for key in (lat_key, lng_key):
        text = row.cells[key]
        value = read_number(text) if text else None
        if not text:
            row.bad(key, str(FILL_IN))
        elif value is None:
            row.bad(key, gettext("Write a number of degrees, such as 43.8812."))
            value = None
        numbers.append(value)
    system = read_system(row.cells.get(system_key, ""))
    if system is None:
        row.bad(system_key, unknown_system(row.cells[system_key]))
    if None in numbers or system is None:
        return None
    settle_point(instance, numbers[0], numbers[1], system, before)
    return (numbers[0], numbers[1], system)


_GATE = re.compile(
    r"^(?P<name>.*?)\s*[(（]?\s*(?P<lat>-?\d+(?:\.\d+)?)\s*[,，]\s*(?P<lng>-?\d+(?:\.\d+)?)\s*[)）]?$"
)
_GATE_SPLIT = re.compile(r"[;；\n]+")
GATES_EXAMPLE = "北门 43.88651,125.28402；东门 43.88590,125.28733"


def parse_gates(text: str) -> list[tuple[str, float, float]]:
    """A gates cell, ``北门 43.88651,125.28402；东门 43.88590,125.28733``, as (name, lat, lng)
    in the row's system; a name may be left out. Raises ValueError with what to write."""
    gates = []
    for part in _GATE_SPLIT.split(text):
        part = part.strip()
        if not part:
            continue
        match = _GATE.match(part)
        if match is None:
            raise ValueError(
                gettext(
                    "“%(part)s” is not a gate: write a name, then latitude,longitude; gates "
                    "separated by ；, e.g. %(example)s"
                )
                % {"part": part, "example": GATES_EXAMPLE}
            )
        lat, lng = float(match["lat"]), float(match["lng"])
        gates.append((match["name"].strip(), lat, lng))
    return gates


def format_gates(gates: Iterable[tuple[str, float, float]]) -> str:
    return "；".join(f"{name} {lat},{lng}".strip() for name, lat, lng in gates)


def check_names(
    plan: Plan,
    by_pair: dict,
    *,
    key: str,
    same: str,
    twice: str,
    taken: str,
    holder_key: Callable = lambda holder: holder.pk,
) -> None:
    """Two rows that are one row of the database, two of a community's rows with one name, or a
    rename into the name another of the community's rows has. Rows have ``existing`` (the row
    they change, or None), ``community`` and a name; ``by_pair`` holds the existing rows by
    (community id, name); ``key`` is the key column. The messages, translated, take ``row``, and
    ``name``, ``community`` and ``key``."""
    first_of: dict[int, RowPlan] = {}
    first_of_name: dict[tuple[int, str], RowPlan] = {}
    in_sheet = {r.existing.pk for r in plan.rows if r.existing is not None}
    for row in plan.rows:
        if row.existing is not None:
            first = first_of.setdefault(row.existing.pk, row)
            if first is not row:
                row.bad(key if row.cells[key] else "name", same % {"row": first.number})
                continue
        if row.community is None or not row.name:
            continue
        pair = (row.community.pk, row.name)
        first = first_of_name.setdefault(pair, row)
        holder = by_pair.get(pair)
        if first is not row:
            values = {"row": first.number, "name": row.name, "community": row.community.name}
            row.bad("name", twice % values)
        elif holder is not None and holder.pk not in in_sheet:
            values = {"community": row.community.name, "name": row.name, "key": holder_key(holder)}
            row.bad("name", taken % values)
