"""The exports of a whole (generated) city: the workbook written row by row holds every sheet,
header and value of the report's tables, text stays text; the CSV tables are streamed in chunks
and equal the table written at once."""

import csv
import io
import re
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from communities.models import Community, ResidentialCompound
from portal.lib import cells
from reports import report_data, report_export
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "@SUM(1+1)", "+1-2", "#N/A"]


@pytest.fixture
def city(generated_city) -> report_data.Area:
    """The generated city, some of its compounds named like formulas."""
    for compound, name in zip(
        ResidentialCompound.objects.filter(community__subdistrict__district=generated_city),
        FORMULAS,
        strict=False,
    ):
        compound.name = name
        compound.save()
    return report_data.gather(Community.objects.filter(subdistrict__district=generated_city))


def former_csv(area, table: str, **choices) -> str:
    """A table as the CSV export wrote it before it was streamed: all at once."""
    built = report_export._build(table, area, title="", **choices)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(cells.csv_row(c.header for c in built.columns))
    kinds = [c.kind for c in built.columns]
    writer.writerows(
        [report_export._csv_value(v, kind) for v, kind in zip(row, kinds, strict=True)]
        for row in built.rows
    )
    return out.getvalue()


def test_the_city_workbook_holds_every_sheet_header_and_value(city):
    content = report_export.workbook(city, plan=False, code="canteen", k=5, title="演示市")
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert len(workbook.sheetnames) == len(report_export.TABLES)
    for name, sheet in zip(report_export.TABLES, workbook.worksheets, strict=True):
        table = report_export._build(name, city, plan=False, code="canteen", k=5, title="演示市")
        rows = list(table.rows)
        top = len(table.above) + 1
        assert sheet.title == report_export._sheet_title(table.name)
        assert [c.value for c in sheet[top]] == [c.header for c in table.columns], name
        assert sheet.max_row == top + len(rows), name
        for values, line in zip(rows, sheet.iter_rows(min_row=top + 1), strict=True):
            for value, cell in zip(values, line, strict=True):
                if isinstance(value, str):
                    assert (cell.value, cell.data_type) == (value, "s")
                elif isinstance(value, date):
                    assert isinstance(cell.value, datetime) and cell.value.date() == value
                else:
                    assert cell.value == value and type(cell.value) is type(value), name
    compounds = workbook.worksheets[report_export.TABLES.index("compounds")]
    assert compounds.max_row == 1 + 400 * len(city.required)
    named = [c for c in compounds["A"] if c.value in FORMULAS]
    assert len(named) == len(FORMULAS) * len(city.required)
    assert all(c.data_type == "s" for c in named)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for part in archive.namelist():
            assert not re.search(rb"<f[ >/]", archive.read(part)), part


@pytest.mark.parametrize("table", report_export.TABLES)
def test_a_csv_export_is_streamed_and_equals_the_table_written_at_once(city_admin, city, table):
    client = client_for(city_admin)
    response = client.get(reverse("reports:export-csv", args=[table]), {"service": "canteen"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    chunks = list(response.streaming_content)
    with translation.override("zh-hans"):
        expected = former_csv(city, table, plan=False, code="canteen", k=5)
    assert b"".join(chunks).decode() == expected
    assert expected.startswith("\ufeff")
    if table == "compounds":  # 4,000 rows, sent a chunk of rows at a time
        assert len(chunks) == -(-4000 // report_export.CSV_CHUNK_ROWS)
        rows = list(csv.reader(io.StringIO(expected[1:])))
        assert len(rows) == 1 + 400 * len(city.required)
        assert {r[0] for r in rows} >= {"'" + name for name in FORMULAS[:3]} | {"#N/A"}


def test_a_streamed_csv_keeps_the_language_it_was_asked_in(city_admin, city):
    client = client_for(city_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("reports:export-csv", args=["compounds"]))
    # Read while another language is active, as a server thread may be.
    with translation.override("zh-hans"):
        text = response.getvalue().decode()
    with translation.override("en"):
        assert text == former_csv(city, "compounds", plan=False, code="canteen", k=5)
    services = {row[3] for row in list(csv.reader(io.StringIO(text[1:])))[1:]}
    assert services == {s.name_en for s in city.required}
