"""Building and sending the back office's spreadsheets in tests, for any list
(``portal.lib.sheets.Layout``): the compound, idle room and community lists' tests use these."""

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


def row_of(layout, **cells) -> list:
    """A sheet row in the layout's column order from column keys."""
    return [cells.get(column.key, "") for column in layout.columns]


def xlsx(layout, rows, headers=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = layout.title
    sheet.append(headers or layout.headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_rows(content: bytes, title: str) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(r) for r in book[title].iter_rows(values_only=True)]


class Pages:
    """The list pages of one admin: ``Pages("communities", "residentialcompound")``."""

    def __init__(self, app: str, model: str) -> None:
        self.prefix = f"admin:{app}_{model}"

    def preview(self, client, content: bytes, name: str = "清单.xlsx"):
        response = client.post(
            reverse(f"{self.prefix}_import"), {"sheet": SimpleUploadedFile(name, content)}
        )
        assert response.status_code == 200
        return response

    def confirm(self, client, response):
        assert response.context["plan"].ok, response.context["plan"].problems
        return client.post(
            reverse(f"{self.prefix}_import_confirm"), {"sha256": response.context["digest"]}
        )

    def imported(self, client, content: bytes, name: str = "清单.xlsx") -> dict[str, int]:
        """Preview and confirm; the preview's counts."""
        response = self.preview(client, content, name)
        counts = response.context["plan"].counts
        assert self.confirm(client, response).status_code == 302
        return counts

    def exported(self, client, kind: str = "xlsx") -> bytes:
        response = client.get(reverse(f"{self.prefix}_export", args=[kind]))
        assert response.status_code == 200
        return response.content


def counts(response) -> dict[str, int]:
    return response.context["plan"].counts


def problems(response) -> list[tuple[int, str, str]]:
    return [
        (number, column, why) for number, column, why, _name in response.context["plan"].problems
    ]
