"""The coverage report to take away: the whole report as an Excel workbook, or one table as CSV.

Pure functions of an ``report_data.Area``; the view decides who may download what. The matrix
holds each community's courses (current terms) and open wishes after its coverage, so demand
sits beside the gaps there too. Every table is
built once as columns and rows (``_build``) and then written either way, so the CSV of a table
has the sheet's columns. In the workbook, numbers are numbers (integers as ``#,##0``, shares as
0–1 with a ``0%`` format, dates as dates), each sheet's header row is bold and frozen with an
autofilter over its table, and columns are as wide as their text, a Chinese character counting
two. Headers and sheet names follow the active language (zh-hans unless told otherwise).

A share is written exactly (residents covered ÷ residents): Excel's ``0%`` rounds it for display,
so 99.6 % shows as 100 % where the web page, rounding down, shows 99; the "complete community"
column says which communities really are.

Size. A whole city's workbook holds two million cells (the compounds sheet: every compound ×
required service), so it is written row by row as XML (``reports.xlsx``: 26 s with openpyxl's
cell objects, about 3 s so), and the compounds' rows are made as they are read: a CSV of them is
streamed (``csv_chunks``) and never held as one string.

Names people typed (a community, a compound, a facility, a category, a wish) stay text: in the
workbook every text is a shared-string cell (``reports.xlsx`` cannot write a formula), in the CSV
a field that would start a formula gets an apostrophe (``portal.lib.cells``).
"""

import csv
import io
import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.utils import get_column_letter

from facilities.models import Facility
from portal.lib import cells
from reports import coverage, report_data, xlsx
from reports.report_data import Area

TABLES = ("summary", "matrix", "gaps", "compounds", "suggestions", "wishes")
# The tables holding each community's courses and wishes (the views cache them under their mark).
WITH_DEMAND = ("matrix", "wishes")

# Column kinds: how a value is written and formatted.
TEXT, INT, SHARE, DATE, FLOAT = "text", "int", "share", "date", "float"
FORMATS = {INT: "#,##0", SHARE: "0%", DATE: "yyyy-mm-dd", FLOAT: "0.00"}
SHARE_DIGITS = 4  # a share in the CSV: 0.6316
CSV_CHUNK_ROWS = 2000  # rows a streamed CSV sends at a time

MAX_WIDTH = 50  # characters; longer text wraps when the cell is widened by hand
MAX_HEADER_WIDTH = 16  # a longer header wraps onto more lines rather than widening its column
LINE_HEIGHT = 15  # points, one line of the default 11-point font
_BAD_TITLE = str.maketrans("", "", "[]:*?/\\")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


@dataclass
class Table:
    """One sheet: lines above the table (the title and facts, a note), then the table."""

    name: str
    columns: list[Column]
    rows: Iterable[list]  # a list, or made as they are read (the compounds)
    above: list[list] = field(default_factory=list)
    titled: bool = False  # the first line above is the report's title
    freeze_first_column: bool = False


def workbook(area: Area, *, plan: bool, code: str, k: int, title: str) -> bytes:
    """XLSX of the report: sheets Summary, Matrix, Gaps, Compounds, Suggestions, Wishes."""
    tables = [_build(name, area, plan=plan, code=code, k=k, title=title) for name in TABLES]
    with xlsx.Book() as book:
        for table in tables:
            _write(book, table)
        return book.close()


def csv_chunks(area: Area, table: str, *, plan: bool, code: str, k: int) -> Iterator[bytes]:
    """One table (one of TABLES) as CSV in UTF-8, with a byte-order mark first so that Excel in
    China opens it correctly, a few thousand rows at a time: for streaming, so the city's 200,000
    compound rows are never one string. The summary is its per-service table. The table is
    chosen (and checked: ValueError for an unknown one) when called; its rows are made as the
    chunks are read."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: one of {', '.join(TABLES)}")
    return _csv_chunks(_build(table, area, plan=plan, code=code, k=k, title=""))


def _csv_chunks(table: Table) -> Iterator[bytes]:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(cells.csv_row(c.header for c in table.columns))
    kinds = [c.kind for c in table.columns]
    for i, row in enumerate(table.rows, start=1):
        writer.writerow([_csv_value(v, kind) for v, kind in zip(row, kinds, strict=True)])
        if i % CSV_CHUNK_ROWS == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    if rest := out.getvalue():
        yield rest.encode()


def csv_text(area: Area, table: str, *, plan: bool, code: str, k: int) -> str:
    """``csv_chunks`` as one text (byte-order mark included), for tests and small tables."""
    return b"".join(csv_chunks(area, table, plan=plan, code=code, k=k)).decode()


# --- The tables ------------------------------------------------------------------------------


def _build(name: str, area: Area, *, plan: bool, code: str, k: int, title: str) -> Table:
    builders: dict[str, Callable[[], Table]] = {
        "summary": lambda: _summary(area, plan, title),
        "matrix": lambda: _matrix(area, plan),
        "gaps": lambda: _gaps(area, plan),
        "compounds": lambda: _compounds(area, plan),
        "suggestions": lambda: _suggestions(area, plan, code, k),
        "wishes": lambda: _wishes(area),
    }
    return builders[name]()


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _basis(plan: bool) -> str:
    if plan:
        return _("With the plan: planned and under-construction facilities counted as open")
    return _("Today: facilities open now (or closed for a while) only")


def _summary(area: Area, plan: bool, title: str) -> Table:
    totals, now, planned = area.totals(plan), area.totals(False), area.totals(True)
    above = [
        [title],
        [_("Generated on"), timezone.localdate()],
        [_("Figures"), _basis(plan)],
        [_("Distances"), area.measure_label()],
        [_("Residents"), area.population],
        [capfirst(_("Compounds")), len(area.homes.ids)],
        [_("Communities"), len(area.places)],
        [_("Complete communities"), sum(area.complete(plan).values())],
        [],
    ]
    columns = [
        Column(_("Service")),
        Column(_("Walking distance (m)"), INT),
        Column(_("Residents covered"), INT),
        Column(_("Share"), SHARE),
        Column(_("Residents not covered"), INT),
        Column(_("Gained with the plan"), INT),
    ]
    line = area.line_totals(plan)
    if line is not None:
        columns += [
            Column(_("Covered by straight line"), INT),
            Column(_("Detour factor (walk ÷ straight line, median)"), FLOAT),
        ]
    rows = []
    for s in area.required:
        cell = totals[s.code]
        row = [
            s.name,
            s.distance_m,
            cell.covered,
            _share(cell.covered, cell.population),
            cell.uncovered,
            planned[s.code].covered - now[s.code].covered,
        ]
        if line is not None:
            detour = area.detour(s.code, plan)
            row += [line[s.code].covered, round(detour, 2) if detour is not None else None]
        rows.append(row)
    return Table(pgettext("report sheet", "Summary"), columns, rows, above, titled=True)


def _matrix(area: Area, plan: bool) -> Table:
    """Each community's coverage, then its courses in current terms and its open wishes."""
    kinds = report_data.wish_kinds()
    columns = [
        Column(_("Community")),
        Column(_("Subdistrict")),
        Column(_("Residents"), INT),
        *(Column(s.name, SHARE) for s in area.required),
        Column(_("Complete community")),
        Column(_("Classes in current terms"), INT),
        Column(_("Seats"), INT),
        Column(_("Seats taken"), INT),
        Column(_("Residents with a seat"), INT),
        Column(_("Full classes"), INT),
        Column(_("On waiting lists"), INT),
        Column(_("Waiting for a draw"), INT),
        *(Column(_("Open wishes: %(kind)s") % {"kind": kind.label}, INT) for kind in kinds),
        Column(_("Supporters of open wishes"), INT),
    ]
    rows = [
        [
            row.place.name,
            row.place.subdistrict,
            row.population,
            *(_share(c.covered, c.population) for c in row.cells),
            _yes_no(row.complete),
            row.demand.classes,
            row.demand.seats,
            row.demand.enrolled,
            row.demand.residents,
            row.demand.full,
            row.demand.waiting,
            row.demand.applied,
            *(row.demand.wishes_of(kind.kind).wishes for kind in kinds),
            row.demand.support,
        ]
        for row in area.matrix_rows(plan)
    ]
    return Table(pgettext("report sheet", "Matrix"), columns, rows, freeze_first_column=True)


def _gaps(area: Area, plan: bool) -> Table:
    columns = [
        Column(_("Community")),
        Column(_("Subdistrict")),
        Column(_("Service")),
        Column(_("Walking distance (m)"), INT),
        Column(_("Residents beyond the walk"), INT),
        Column(_("Compounds"), INT),
        Column(_("Share of the community's residents"), SHARE),
        Column(_("Farthest walk (m)"), INT),
    ]
    if area.walks:
        columns.append(Column(_("Of them, covered by straight line"), INT))
    rows = [
        [
            g.place.name,
            g.place.subdistrict,
            g.service.name,
            g.service.distance_m,
            g.residents,
            g.compounds,
            _share(g.residents, g.population),
            None if g.farthest_m is None else round(g.farthest_m),
            *([g.line_covered] if area.walks else []),
        ]
        for g in area.gap_rows(plan)
    ]
    return Table(pgettext("report sheet", "Gaps"), columns, rows, freeze_first_column=True)


def _compounds(area: Area, plan: bool) -> Table:
    names = {p.id: p.name for p in area.places}
    community = dict(
        zip(area.homes.ids.tolist(), [names[c] for c in area.homes.community.tolist()], strict=True)
    )
    statuses = {value: str(label) for value, label in Facility.Status.choices}
    yes, no = _("yes"), _("no")
    columns = [
        Column(_("Compound")),
        Column(_("Community")),
        Column(_("Residents"), INT),
        Column(_("Service")),
        Column(_("Nearest facility")),
        Column(capfirst(_("status"))),
        Column(_("Distance (m)"), INT),
        Column(_("Within the walk")),
    ]
    if area.walks:
        columns += [
            Column(_("Straight line to the nearest (m)"), INT),
            Column(_("Measured")),
            Column(_("Why the walk is longer")),
        ]
    walked, straight, check = _("walking along streets"), _("straight line"), _("check this point")
    service_names = {s.code: s.name for s in area.required}
    # Beyond the engine's reach there is no nearest facility to name: the cell says so.
    none_within = {
        s.code: _("none within %(m)s m") % {"m": f"{round(coverage.REACH * s.distance_m):,}"}
        for s in area.required
    }
    walks = area.walks

    def rows() -> Iterator[list]:
        """Made as they are read: the city's 200,000 rows go to a CSV file as they come."""
        for row in area.compound_rows(plan):
            place = community[row.id]
            measured = f"{straight} ({check})" if row.off_streets else walked
            for walk in row.walks:
                spot = walk.spot
                line = [
                    row.name,
                    place,
                    row.population,
                    service_names[walk.service.code],
                    spot.name if spot else none_within[walk.service.code],
                    statuses.get(spot.status, spot.status) if spot else None,
                    None if walk.distance_m is None else round(walk.distance_m),
                    yes if walk.covered else no,
                ]
                if walks:
                    line += [
                        None if walk.line_m is None else round(walk.line_m),
                        measured,
                        walk.across_text or None,
                    ]
                yield line

    return Table(pgettext("report sheet", "Compounds"), columns, rows(), freeze_first_column=True)


def _suggestions(area: Area, plan: bool, code: str, k: int) -> Table:
    service = area.service(code)
    if service is None:
        raise ValueError(f"unknown service {code!r}")
    found = area.suggestions(code, plan, k)
    above = [
        [
            _(
                "%(service)s: within %(distance)s m of home; a room needs at least %(floor)s m² "
                "of floor area."
            )
            % {
                "service": service.name,
                "distance": f"{service.distance_m:,}",
                "floor": f"{found.min_floor_area:,}",
            }
        ],
        [
            _("%(small)s of the area's %(rooms)s idle rooms are too small for it.")
            % {"small": f"{found.too_small:,}", "rooms": f"{found.rooms:,}"}
        ],
        [
            _("%(basis)s. Residents within the walk before these picks: %(covered)s of %(total)s.")
            % {
                "basis": _basis(plan),
                "covered": f"{found.covered:,}",
                "total": f"{found.population:,}",
            }
        ],
    ]
    if not found.picks:
        above.append([_("No idle room would bring more residents within the walk.")])
    above.append([])
    columns = [
        Column(_("Rank"), INT),
        Column(_("Idle room")),
        Column(_("Community")),
        Column(capfirst(_("floor area (m²)")), INT),
        Column(capfirst(_("owner"))),
        Column(capfirst(_("available from")), DATE),
        Column(_("Residents newly covered"), INT),
        Column(_("Residents covered after this pick"), INT),
        Column(_("Share after this pick"), SHARE),
        Column(capfirst(_("notes"))),
    ]
    rows = [
        [
            pick.rank,
            pick.room.name,
            pick.place.name,
            pick.room.floor_area,
            pick.room.owner or None,
            pick.room.available_from,
            pick.gained,
            pick.covered_after,
            _share(pick.covered_after, found.population),
            pick.room.notes or None,
        ]
        for pick in found.picks
    ]
    return Table(pgettext("report sheet", "Suggestions"), columns, rows, above)


def _wishes(area: Area) -> Table:
    """Each community's most supported open wishes (as its report page lists them), with what
    residents wrote: the demand behind the matrix's counts, to read in a meeting."""
    names = {s.code: s.name for s in area.services}
    columns = [
        Column(_("Community")),
        Column(_("Subdistrict")),
        Column(_("Wish")),
        Column(_("Wished for")),
        Column(_("Status")),
        Column(_("Supporters"), INT),
        Column(_("Services it names")),
        Column(_("What the resident wrote")),
    ]
    rows = [
        [
            place.name,
            place.subdistrict,
            wish.title,
            wish.kind_label,
            wish.status_label,
            wish.support,
            "、".join(names[c] for c in wish.codes if c in names) or None,
            wish.text or None,
        ]
        for place in area.places
        for wish in area.demand_of(place.id).top
    ]
    return Table(pgettext("report sheet", "Wishes"), columns, rows, freeze_first_column=True)


# --- Writing them ----------------------------------------------------------------------------


def _sheet_title(name: str) -> str:
    """Excel's rules for a sheet name, whatever a translation says."""
    return name.translate(_BAD_TITLE).strip("'")[:31] or "Sheet"


def _text_width(text: str) -> int:
    """Columns a text takes: a Chinese (wide) character two, others one."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return max(_text_width(line) for line in value.splitlines() or [""])
    if isinstance(value, float):
        return 5  # 100%
    if isinstance(value, int):
        return len(f"{value:,}")
    if isinstance(value, date):
        return 10
    return len(str(value))


# The cell styles: a number format per column kind, the header's, the report's title.
BODY = {kind: xlsx.Style(number_format=code) for kind, code in FORMATS.items()}
HEADER = xlsx.Style(bold=True, wrap=True)
TITLE = xlsx.Style(bold=True, size=14)


def _line_style(value) -> xlsx.Style | None:
    """A line above a table is formatted by type (its columns hold other things below)."""
    if isinstance(value, date):
        return BODY[DATE]
    if isinstance(value, int) and not isinstance(value, bool):
        return BODY[INT]
    return None


def _write(book: xlsx.Book, table: Table) -> None:
    rows = table.rows if isinstance(table.rows, list) else list(table.rows)
    top = len(table.above) + 1
    ncols = len(table.columns)
    last = top + len(rows)
    end = get_column_letter(ncols)
    widths, lines = _widths(table, rows)
    sheet = book.sheet(
        _sheet_title(table.name),
        widths=widths,
        freeze=f"{'B' if table.freeze_first_column else 'A'}{top + 1}",
        autofilter=f"A{top}:{end}{last}",
        extent=f"A1:{end}{last}",
    )
    for i, values in enumerate(table.above):
        styles = [_line_style(v) for v in values]
        if table.titled and i == 0 and styles:
            styles[0] = TITLE
        sheet.row(values, styles)
    sheet.row(
        [c.header for c in table.columns],
        [HEADER] * ncols,
        height=LINE_HEIGHT * lines if lines > 1 else None,
    )
    sheet.rows(rows, [BODY.get(c.kind) for c in table.columns])


def _widths(table: Table, rows: list[list]) -> tuple[list[int], int]:
    """Each column's width: its widest value (text that ends a line above the table spills into
    the empty cells to its right and is not counted), its header up to MAX_HEADER_WIDTH; and the
    lines the widest-wrapping header takes."""
    widths, lines = [], 1
    for col, column in enumerate(table.columns):
        widest = _widest({r[col] for r in rows})
        for values in table.above:
            if col + 1 < len(values):
                widest = max(widest, _width(values[col]))
        header = _width(column.header)
        width = min(max(widest, min(header, MAX_HEADER_WIDTH), 4) + 2, MAX_WIDTH)
        widths.append(width)
        lines = max(lines, math.ceil(header / (width - 2)))
    return widths, lines


def _widest(values: set) -> int:
    """The largest ``_width`` of ``values``. Text is measured longest first and no further
    than can matter: a text is at most twice as wide as it is long, and no column is wider than
    MAX_WIDTH (a city's 200,000 compound rows hold tens of thousands of names)."""
    texts = sorted((v for v in values if isinstance(v, str)), key=len, reverse=True)
    widest = max((_width(v) for v in values if not isinstance(v, str)), default=0)
    for text in texts:
        if 2 * len(text) <= widest or widest >= MAX_WIDTH:
            break
        widest = max(widest, _width(text))
    return widest


def _csv_value(value, kind: str) -> str:
    if kind == SHARE and value is not None:
        return str(round(value, SHARE_DIGITS))
    return cells.csv_field(value)
