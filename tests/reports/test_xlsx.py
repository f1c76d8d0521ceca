"""The streaming XLSX writer: what openpyxl (as Excel would) reads back from it, and text that
stays text whatever it looks like."""

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.utils.timezone import get_current_timezone

from reports import xlsx

BOLD = xlsx.Style(bold=True, wrap=True)
NUMBER = xlsx.Style(number_format="#,##0")
SHARE = xlsx.Style(number_format="0%")
DAY = xlsx.Style(number_format="yyyy-mm-dd")


def sample() -> bytes:
    book = xlsx.Book()
    first = book.sheet("概要", widths=[24, 12.5], freeze="A3", autofilter="A2:B4", extent="A1:B4")
    first.row(["新竹社区 coverage report"], [xlsx.Style(bold=True, size=14)])
    first.row(["小区", "居民"], [BOLD, BOLD], height=30)
    first.rows([["新竹一区", 1200], ["新竹远郊小区", None]], [None, NUMBER])
    first.row(["", 0.5], [None, SHARE])
    second = book.sheet("Dates", freeze="B2")
    second.row(
        [date(2027, 3, 1), datetime(2027, 3, 1, 18, 30), True, Decimal("2.50")],
        [DAY, xlsx.Style(number_format="yyyy-mm-dd hh:mm")],
    )
    return book.close()


def test_openpyxl_reads_back_the_values_styles_and_layout():
    workbook = openpyxl.load_workbook(io.BytesIO(sample()))
    assert workbook.sheetnames == ["概要", "Dates"]
    sheet = workbook["概要"]
    assert sheet["A1"].value == "新竹社区 coverage report"
    assert sheet["A1"].font.bold and sheet["A1"].font.size == 14
    assert [c.value for c in sheet[2]] == ["小区", "居民"]
    assert all(c.font.bold and c.alignment.wrap_text for c in sheet[2])
    assert sheet.row_dimensions[2].height == 30
    assert sheet["B3"].value == 1200 and type(sheet["B3"].value) is int
    assert sheet["B3"].number_format == "#,##0"
    assert sheet["B4"].value is None and sheet["A5"].value is None
    assert sheet["B5"].value == 0.5 and sheet["B5"].number_format == "0%"
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:B4"
    assert sheet.column_dimensions["A"].width == 24
    assert sheet.column_dimensions["B"].width == 12.5
    dates = workbook["Dates"]
    assert dates.freeze_panes == "B2"
    assert dates["A1"].is_date and dates["A1"].value == datetime(2027, 3, 1)
    assert dates["B1"].value == datetime(2027, 3, 1, 18, 30)
    assert dates["C1"].value is True
    assert dates["D1"].value == 2.5


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","点我")',
        "=cmd|' /C calc'!A0",
        "+1-2",
        "-1",
        "@SUM(A1)",
        "#N/A",
        "_x0041_ is not A",
        " spaced ",
        "两行\n文字",
        "<b>&amp;</b>",
        "1234",
    ],
)
def test_text_stays_the_text_it_is(text):
    book = xlsx.Book()
    book.sheet("s").row([text, "x\x07y"])
    content = book.close()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == text and sheet["A1"].data_type == "s"
    assert sheet["B1"].value == "xy"  # what XML cannot hold is dropped
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert not re.search(rb"<f[ >/]", xml)


def test_what_a_cell_cannot_hold_is_refused():
    for value, error in [
        (float("nan"), ValueError),
        (datetime(2027, 3, 1, tzinfo=get_current_timezone()), ValueError),
        (object(), TypeError),
    ]:
        with pytest.raises(error), xlsx.Book() as book:
            book.sheet("s").row([value])
    for title in ("", "a/b", "长" * 32):
        with pytest.raises(ValueError), xlsx.Book() as book:
            book.sheet(title)
    with pytest.raises(ValueError):
        xlsx.Book().close()


def test_a_shared_text_is_written_once():
    book = xlsx.Book()
    book.sheet("s").rows([["社区食堂", "正常开放"]] * 1000)
    with zipfile.ZipFile(io.BytesIO(book.close())) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert strings.count("<si>") == 2 and 'count="2000"' in strings
