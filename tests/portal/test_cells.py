"""portal.lib.cells: the one place that turns a value into a workbook or CSV cell."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from portal.lib import cells

TRIGGERS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]


def saved(*rows, write_only=False) -> openpyxl.Workbook:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet("s") if write_only else book.active
    for row in rows:
        sheet.append(cells.xlsx_row(sheet, row))
    out = io.BytesIO()
    book.save(out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize("write_only", [False, True])
def test_text_that_looks_like_a_formula_or_an_error_stays_a_string(write_only):
    texts = ['=HYPERLINK("http://x","点我")', "#N/A", "#REF!", *TRIGGERS]
    sheet = saved(texts, write_only=write_only).worksheets[0]
    row = next(sheet.iter_rows())
    # An XML reader hands a carriage return back as a line feed (XML's rule, not ours).
    assert [c.value for c in row] == [t.replace("\r", "\n") for t in texts]
    assert {c.data_type for c in row} == {"s"}


def test_without_it_openpyxl_would_make_a_formula_and_an_error():
    """What the module guards against, so that the test above could fail."""
    book = openpyxl.Workbook()
    book.active.append(["=1+1", "#N/A"])
    assert [c.data_type for c in book.active[1]] == ["f", "e"]


def test_numbers_dates_and_times_stay_typed_and_an_aware_time_is_written_local(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    moment = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    sheet = saved([7, 2.5, Decimal("3.25"), date(2026, 12, 7), moment, True]).active
    values = [c.value for c in next(sheet.iter_rows())]
    assert values[:3] == [7, 2.5, 3.25]
    assert values[3] == datetime(2026, 12, 7)
    assert values[4] == datetime(2026, 12, 7, 9, 30)  # Beijing's wall clock
    assert values[5] is True


def test_control_characters_a_workbook_cannot_hold_are_dropped_not_a_crash():
    sheet = saved(["王\x01秀\x1f英", "两行\n文字\t制表"]).active
    assert [c.value for c in next(sheet.iter_rows())] == ["王秀英", "两行\n文字\t制表"]


def test_empty_values_leave_the_cell_empty_and_lazy_text_is_written():
    with translation.override("en"):
        sheet = saved([None, "", gettext_lazy("Status")]).active
    assert [c.value for c in next(sheet.iter_rows())] == [None, None, "Status"]


def test_put_writes_a_styled_text_cell_in_place():
    book = openpyxl.Workbook()
    font = openpyxl.styles.Font(bold=True)
    cell = cells.put(book.active, 2, 3, "=1+1", font=font, number_format="@")
    assert (cell.coordinate, cell.value, cell.data_type) == ("C2", "=1+1", "s")
    assert cell.font.bold and cell.number_format == "@"


@pytest.mark.parametrize("text", TRIGGERS)
def test_a_csv_field_that_would_start_a_formula_gets_an_apostrophe(text):
    assert cells.csv_field(text) == "'" + text


def test_csv_fields_keep_numbers_and_ordinary_text_as_they_are(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    row = [-5, 2.0, 0.25, Decimal("1.50"), "王秀英", "138-0000", None, date(2026, 1, 2)]
    row.append(datetime(2026, 12, 7, 1, 30, tzinfo=UTC))
    out = io.StringIO()
    csv.writer(out).writerow(cells.csv_row(row))
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        "-5",
        "2",
        "0.25",
        "1.50",
        "王秀英",
        "138-0000",
        "",
        "2026-01-02",
        "2026-12-07 09:30",
    ]
