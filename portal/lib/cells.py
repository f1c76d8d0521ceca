"""Cells of the workbooks and CSV files the portal writes: people's text stays text.

Every sheet the portal hands out (the class roster and its attendance sheet, the resource list and
its template, the officials' report workbook and CSV tables) holds text that somebody typed: a
resident's name, a wish, a facility's or a course's name, an idle room's notes. Residents are not
trusted, but staff trust a file because the portal made it, and a spreadsheet program runs a cell
that looks like a formula: ``=HYPERLINK(…)`` shows a live link, ``=WEBSERVICE(…)`` or a DDE call
(``=cmd|' /C …'!A0``) sends the sheet's other cells, full mobile numbers included, wherever the
formula says once the file is opened and a prompt accepted.

So every writer puts its values through this module, the one place that decides how a value
becomes a cell:

- **XLSX** (``xlsx``, ``xlsx_row``): text is always a string cell. openpyxl turns a string that
  starts with "=" into a formula and one of Excel's error words ("#N/A") into an error cell;
  those become explicit string cells instead, and characters XML cannot hold (control characters
  other than tab and line breaks, which openpyxl refuses) are dropped. Numbers, dates and times
  stay typed; an aware datetime is written as the local wall-clock time (Excel has no time zones).
- **CSV** (``csv_field``, ``csv_row``): a CSV file has no cell types, and Excel or WPS read a field
  that starts with ``= + - @``, a tab or a carriage return as a formula; such text gets the usual
  leading apostrophe (OWASP's advice), which importers take off again
  (``facilities.sheets.cell_text``). Numbers written as numbers never get one.

Plain functions, no models: anything that writes a sheet may use them.
"""

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone
from django.utils.functional import Promise
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# What Excel, LibreOffice, WPS and Google Sheets take as the start of a formula in a CSV field.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The characters XML 1.0 cannot carry (openpyxl raises IllegalCharacterError on them).
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NUMBERS = (int, float, Decimal)


def xml_text(text: str) -> str:
    """``text`` without the control characters a workbook cannot hold."""
    return _NOT_IN_XML.sub("", text)


def _local(value: datetime) -> datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def _prepared(value) -> tuple[object, bool]:
    """(the value to write, whether it must be marked as text)."""
    if isinstance(value, Promise):  # a lazy translation
        value = str(value)
    if isinstance(value, datetime):
        return _local(value), False
    if isinstance(value, str):
        value = xml_text(value)
        return value, value.startswith("=") or value in ERROR_CODES
    return value, False


def _style(cell, font, alignment, number_format):
    if font:
        cell.font = font
    if alignment:
        cell.alignment = alignment
    if number_format:
        cell.number_format = number_format


def xlsx(sheet, value, *, font=None, alignment=None, number_format: str | None = None):
    """``value`` ready for ``sheet.append``: a plain value where openpyxl types it right by itself,
    else a cell (a write-only cell for a write-only sheet) with its type set. ``font``,
    ``alignment`` and ``number_format`` style it; ``None`` and "" stay empty."""
    if value is None or value == "":
        return None
    value, text_cell = _prepared(value)
    if not (text_cell or font or alignment or number_format):
        return value
    cell = (WriteOnlyCell if isinstance(sheet, WriteOnlyWorksheet) else Cell)(sheet, value=value)
    if text_cell:
        cell.data_type = "s"
    _style(cell, font, alignment, number_format)
    return cell


def xlsx_row(sheet, values: Iterable, **style) -> list:
    """A row of values for ``sheet.append``, each through ``xlsx``."""
    return [xlsx(sheet, v, **style) for v in values]


def put(sheet, row: int, column: int, value, *, font=None, alignment=None, number_format=None):
    """Write ``value`` into the cell at (``row``, ``column``) of an ordinary sheet, as ``xlsx``
    would, and give back the cell."""
    value, text_cell = _prepared(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if text_cell:
        cell.data_type = "s"
    _style(cell, font, alignment, number_format)
    return cell


def is_number(value) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


def csv_field(value) -> str:
    """``value`` as one CSV field: numbers as they are (a whole float without ".0"), dates in ISO
    form (a datetime to the local minute), text with an apostrophe in front when it would start a
    formula."""
    if value is None:
        return ""
    if is_number(value):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_row(values: Iterable) -> list[str]:
    return [csv_field(v) for v in values]
