"""An XLSX writer for large tables: each sheet's rows go into the zip as XML as they are written.

The report workbook of a whole city holds two million cells (20,000 compounds × 10 required
services in the compounds sheet alone). openpyxl makes a Python object of every cell and then
serialises each through an element tree: 26 s for the city, nine tenths of it per-cell work.
XlsxWriter, streaming, still spends some 4 µs a cell. This module writes each row as one string
(about 0.4 µs a cell) and deflates it into the zip entry straight away, so a sheet never sits in
memory as cells, and text is kept once in the shared-string table.

It writes what the reports need and no more: typed values (text, numbers, dates, booleans),
a few cell styles (a number format, a bold or larger font, wrapped text), column widths, row
heights, frozen panes and an autofilter. Layout information must be given before the rows, since
SpreadsheetML puts it first.

Text is always a shared-string cell: there is no way to write a formula, so a name typed as
``=HYPERLINK(…)`` stays the text it is. Characters XML cannot hold are dropped
(``portal.lib.cells.xml_text``), and ``_xHHHH_``, which Excel would read as an escaped character,
is escaped itself.
"""

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

from django.utils.functional import Promise
from openpyxl.utils import get_column_letter

from portal.lib import cells

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Rows are joined and deflated this many at a time.
CHUNK_ROWS = 2000
# Deflate's level: at 3 the city's workbook is as small as openpyxl's was (11 MB) and takes half
# a second less than at the default 6 (which makes it 9.5 MB).
COMPRESS_LEVEL = 3
EXCEL_EPOCH = datetime(1899, 12, 30)
DEFAULT_FONT_SIZE = 11
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4})_")


@dataclass(frozen=True)
class Style:
    """How a cell looks: a number format, a bold or larger font, wrapped text (centred
    vertically)."""

    number_format: str = ""
    bold: bool = False
    size: int = DEFAULT_FONT_SIZE
    wrap: bool = False


PLAIN = Style()


class Book:
    """A workbook being written: ``sheet()`` for each sheet in order, then ``close()`` for the
    file's bytes; used as a context manager, so that an error midway closes it."""

    def __init__(self) -> None:
        self._out = BytesIO()
        self._zip = zipfile.ZipFile(
            self._out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
        )
        self._strings: dict[str, int] = {}  # as given
        self._texts: list[str] = []  # as written
        self._string_refs = 0
        self._styles: dict[Style, int] = {PLAIN: 0}
        self._sheets: list[tuple[str, str]] = []  # (title, autofilter range)
        self._open: Sheet | None = None

    def __enter__(self) -> "Book":
        return self

    def __exit__(self, kind, error, trace) -> None:
        """A book left because of an error is closed, its file thrown away."""
        if error is not None and self._zip.fp is not None:
            if self._open is not None:
                self._open.close()
                self._open = None
            self._zip.close()

    def sheet(
        self,
        title: str,
        *,
        widths: Sequence[float] = (),
        freeze: str = "",
        autofilter: str = "",
        extent: str = "",
    ) -> "Sheet":
        """Start the next sheet (ending the one before): ``widths`` of its columns in
        characters, the top-left cell of the unfrozen pane (``freeze``, as "B2"), the range of
        its autofilter and of its cells (``extent``), all known before the rows are."""
        if self._open is not None:
            self._open.close()
        if not title or len(title) > 31 or any(ch in title for ch in "[]:*?/\\"):
            raise ValueError(f"{title!r} is not a valid sheet name")
        self._sheets.append((title, autofilter))
        self._open = Sheet(self, len(self._sheets), widths, freeze, autofilter, extent)
        return self._open

    def close(self) -> bytes:
        """The file: the sheets, the shared strings, the styles and the parts that list them."""
        if self._open is not None:
            self._open.close()
            self._open = None
        if not self._sheets:
            raise ValueError("a workbook needs at least one sheet")
        write = self._zip.writestr
        write("[Content_Types].xml", self._content_types())
        write(
            "_rels/.rels",
            f'{DECLARATION}<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{DOCUMENT}" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        write("xl/workbook.xml", self._workbook())
        write("xl/_rels/workbook.xml.rels", self._workbook_rels())
        write("xl/styles.xml", self._styles_xml())
        with self._zip.open("xl/sharedStrings.xml", "w") as f:
            f.write(
                f'{DECLARATION}<sst xmlns="{MAIN}" count="{self._string_refs}" '
                f'uniqueCount="{len(self._texts)}">'.encode()
            )
            items = [f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in self._texts]
            for start in range(0, len(items), CHUNK_ROWS):
                f.write("".join(items[start : start + CHUNK_ROWS]).encode())
            f.write(b"</sst>")
        self._zip.close()
        return self._out.getvalue()

    def style(self, style: Style) -> int:
        """The index of ``style`` among the cell formats."""
        index = self._styles.get(style)
        if index is None:
            index = self._styles[style] = len(self._styles)
        return index

    def text(self, value: str) -> int:
        """The index of ``value`` in the shared-string table (each distinct value is made fit
        for XML once)."""
        self._string_refs += 1
        index = self._strings.get(value)
        if index is None:
            index = self._strings[value] = len(self._texts)
            text = cells.xml_text(str(value))
            self._texts.append(_ESCAPED.sub(r"_x005F_\1_", text) if "_x" in text else text)
        return index

    def _content_types(self) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        return (
            f'{DECLARATION}<Types xmlns="{TYPES}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{office}.sharedStrings+xml"/>'
            f"{sheets}</Types>"
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name={quoteattr(title)} sheetId="{i}" r:id="rId{i}"/>'
            for i, (title, _) in enumerate(self._sheets, start=1)
        )
        # Excel records each autofilter's range under this hidden name too.
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(_absolute(title, ref))}</definedName>"
            for i, (title, ref) in enumerate(self._sheets)
            if ref
        )
        return (
            f'{DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            f"{f'<definedNames>{names}</definedNames>' if names else ''}</workbook>"
        )

    def _workbook_rels(self) -> str:
        kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
        n = len(self._sheets)
        parts = [
            f'<Relationship Id="rId{i}" Type="{kind}worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        ]
        parts.append(f'<Relationship Id="rId{n + 1}" Type="{kind}styles" Target="styles.xml"/>')
        parts.append(
            f'<Relationship Id="rId{n + 2}" Type="{kind}sharedStrings" Target="sharedStrings.xml"/>'
        )
        relationships = "".join(parts)
        return f'{DECLARATION}<Relationships xmlns="{PACKAGE_RELS}">{relationships}</Relationships>'

    def _styles_xml(self) -> str:
        codes = list(dict.fromkeys(s.number_format for s in self._styles if s.number_format))
        format_id = {code: 164 + i for i, code in enumerate(codes)}
        fonts = list(dict.fromkeys((s.bold, s.size) for s in self._styles))  # PLAIN's first
        font_id = {font: i for i, font in enumerate(fonts)}
        xfs = []
        for style in self._styles:
            number = format_id.get(style.number_format, 0)
            font = font_id[(style.bold, style.size)]
            xf = f'<xf numFmtId="{number}" fontId="{font}" fillId="0" borderId="0" xfId="0"'
            if number:
                xf += ' applyNumberFormat="1"'
            if font:
                xf += ' applyFont="1"'
            if style.wrap:
                xf += ' applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
            else:
                xf += "/>"
            xfs.append(xf)
        formats = "".join(
            f'<numFmt numFmtId="{format_id[code]}" formatCode={quoteattr(code)}/>' for code in codes
        )
        fonts_xml = "".join(
            f'<font>{"<b/>" if bold else ""}<sz val="{size}"/><name val="Calibri"/>'
            '<family val="2"/></font>'
            for bold, size in fonts
        )
        return (
            f'{DECLARATION}<styleSheet xmlns="{MAIN}">'
            + (f'<numFmts count="{len(codes)}">{formats}</numFmts>' if codes else "")
            + f'<fonts count="{len(fonts)}">{fonts_xml}</fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


class Sheet:
    """One sheet being written: ``row()`` for each row, top to bottom."""

    def __init__(
        self,
        book: Book,
        number: int,
        widths: Sequence[float],
        freeze: str,
        autofilter: str,
        extent: str,
    ) -> None:
        self._book = book
        self._file = book._zip.open(f"xl/worksheets/sheet{number}.xml", "w")
        self._autofilter = autofilter
        self._rows: list[str] = []
        self._row = 0
        self._letters = [get_column_letter(i) for i in range(1, 51)]
        head = [DECLARATION, f'<worksheet xmlns="{MAIN}" xmlns:r="{RELS}">']
        if extent:
            head.append(f'<dimension ref="{extent}"/>')
        selected = ' tabSelected="1"' if number == 1 else ""
        head.append(
            f'<sheetViews><sheetView{selected} workbookViewId="0">{_pane(freeze)}</sheetView>'
            '</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        )
        if widths:
            head.append("<cols>")
            head += [
                f'<col min="{i}" max="{i}" width="{width:g}" customWidth="1"/>'
                for i, width in enumerate(widths, start=1)
            ]
            head.append("</cols>")
        head.append("<sheetData>")
        self._file.write("".join(head).encode())

    def row(
        self, values: Sequence, styles: Sequence[Style | None] = (), height: float | None = None
    ) -> None:
        """The next row: its values (None and "" leave a cell empty), each with the style at the
        same place in ``styles`` (None or none: plain), and its height in points if not the
        default."""
        self._write(values, self._attributes(styles), height)

    def rows(self, rows: Iterable[Sequence], styles: Sequence[Style | None] = ()) -> None:
        """The next rows, all of the same ``styles``."""
        attributes = self._attributes(styles)
        for values in rows:
            self._write(values, attributes, None)

    def _attributes(self, styles: Sequence[Style | None]) -> list[str]:
        return [f' s="{self._book.style(s)}"' if s and s != PLAIN else "" for s in styles]

    def _write(self, values: Sequence, attributes: list[str], height: float | None) -> None:
        self._row = r = self._row + 1
        book, letters = self._book, self._letters
        parts = [f'<row r="{r}"' + (f' ht="{height:g}" customHeight="1">' if height else ">")]
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            while col >= len(letters):
                letters.append(get_column_letter(len(letters) + 1))
            s = attributes[col] if col < len(attributes) else ""
            kind = type(value)
            if kind is str or isinstance(value, Promise | str):
                parts.append(f'<c r="{letters[col]}{r}"{s} t="s"><v>{book.text(value)}</v></c>')
            elif kind is bool:
                parts.append(f'<c r="{letters[col]}{r}"{s} t="b"><v>{int(value)}</v></c>')
            elif kind is int or kind is float or isinstance(value, int | float | Decimal):
                parts.append(f'<c r="{letters[col]}{r}"{s}><v>{_number(value)}</v></c>')
            elif isinstance(value, date):
                parts.append(f'<c r="{letters[col]}{r}"{s}><v>{_serial(value)}</v></c>')
            else:
                raise TypeError(f"cannot write a {kind.__name__} into a cell")
        parts.append("</row>")
        self._rows.append("".join(parts))
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def close(self) -> None:
        if self._file is None:
            return
        self._flush()
        tail = "</sheetData>"
        if self._autofilter:
            tail += f'<autoFilter ref="{self._autofilter}"/>'
        tail += (
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'
        )
        self._file.write(tail.encode())
        self._file.close()
        self._file = None

    def _flush(self) -> None:
        if self._rows:
            self._file.write("".join(self._rows).encode())
            self._rows = []


def _number(value) -> str:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("a cell cannot hold NaN or an infinity")
        return repr(value)
    return str(value)


def _serial(value: date) -> str:
    """Excel's serial number of a date or a naive (local) datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("give a datetime as local wall-clock time (Excel has no time zones)")
        delta = value - EXCEL_EPOCH
        return repr(delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6)
    return str((value - EXCEL_EPOCH.date()).days)


def _pane(freeze: str) -> str:
    """The frozen pane whose top-left cell is ``freeze`` ("B2": one column and one row kept)."""
    if not freeze or freeze == "A1":
        return ""
    letters = freeze.rstrip("0123456789")
    row = int(freeze[len(letters) :])
    column = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(letters.upper()))) - 1
    split = ""
    if column:
        split += f' xSplit="{column}"'
    if row > 1:
        split += f' ySplit="{row - 1}"'
    pane = "bottomRight" if column and row > 1 else "topRight" if column else "bottomLeft"
    return (
        f'<pane{split} topLeftCell="{freeze}" activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{freeze}" sqref="{freeze}"/>'
    )


def _absolute(title: str, ref: str) -> str:
    """``ref`` ("A2:C10") as an absolute reference on sheet ``title``."""
    quoted = "'" + title.replace("'", "''") + "'"
    corners = ":".join(
        "$" + part.rstrip("0123456789") + "$" + part[len(part.rstrip("0123456789")) :]
        for part in ref.split(":")
    )
    return f"{quoted}!{corners}"
