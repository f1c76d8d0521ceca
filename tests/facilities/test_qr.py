"""The poster's QR code: an inline SVG that draws exactly segno's symbol for the page address.

No QR decoder is installed, so the tests read the modules back out of the SVG path and compare
them with the matrix segno computed for the address.
"""

import re
import xml.etree.ElementTree as ET

import segno

from facilities import qr
from facilities.qr import qr_svg

URL = "https://portal.example.cn/facilities/xinzhu-canteen/"
SVG = "{http://www.w3.org/2000/svg}"


def modules_drawn(svg: ET.Element) -> set[tuple[int, int]]:
    """The dark modules of segno's path: rows of horizontal strokes through module centres."""
    (path,) = [p for p in svg.iter(f"{SVG}path") if p.get("class") == qr.MODULES_CLASS]
    dark, x, y = set(), 0.0, 0.0
    for command, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", path.get("d")):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if command in "Mm":
            dx, dy = numbers
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command == "h":
            (length,) = numbers
            dark |= {(int(y), col) for col in range(int(x), int(x + length))}
            x += length
        else:
            raise AssertionError(f"unexpected path command {command}")
    return dark


def modules_of(url: str) -> set[tuple[int, int]]:
    rows = segno.make_qr(url, error=qr.ERROR).matrix_iter(border=qr.BORDER)
    return {(r, c) for r, row in enumerate(rows) for c, is_dark in enumerate(row) if is_dark}


def test_it_returns_an_svg_element_sized_by_its_viewbox_only():
    svg = ET.fromstring(qr_svg(URL, title="新竹社区长者食堂"))
    size = segno.make_qr(URL, error=qr.ERROR).symbol_size(border=qr.BORDER)[0]
    assert svg.tag == f"{SVG}svg"
    assert svg.get("viewBox") == f"0 0 {size} {size}"
    assert svg.get("width") is None and svg.get("height") is None
    assert svg.get("class") == "qr"


def test_it_is_a_named_image_for_screen_readers():
    svg = ET.fromstring(qr_svg(URL, title="新竹社区长者食堂"))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "新竹社区长者食堂"


def test_the_title_is_escaped():
    markup = qr_svg(URL, title="Tea & <Cake>")
    assert "Tea &amp; &lt;Cake&gt;" in markup
    assert ET.fromstring(markup).find(f"{SVG}title").text == "Tea & <Cake>"


def test_it_has_no_xml_declaration_and_no_style_attribute():
    markup = qr_svg(URL, title="x")
    assert markup.startswith("<svg ")
    assert "<?xml" not in markup
    assert "style" not in markup


def test_it_draws_exactly_segnos_matrix_for_the_address():
    drawn = modules_drawn(ET.fromstring(qr_svg(URL, title="x")))
    assert drawn == modules_of(URL)
    assert drawn != modules_of(URL.replace("xinzhu", "shiyou"))


def test_black_modules_on_white_with_a_four_module_quiet_zone():
    svg = ET.fromstring(qr_svg(URL, title="x"))
    background, modules = svg.findall(f"{SVG}path")
    assert background.get("fill") == "#fff"
    assert modules.get("stroke") == "#000"
    rows = {r for r, _ in modules_drawn(svg)}
    cols = {c for _, c in modules_drawn(svg)}
    size = int(svg.get("viewBox").split()[2])
    assert min(rows) == min(cols) == 4
    assert max(rows) == max(cols) == size - 5


def test_it_is_a_full_qr_code_with_at_least_quartile_error_correction():
    symbol = qr.make("https://x.cn/f/1/")  # short enough for a Micro QR, which it must not be
    assert not symbol.is_micro
    assert symbol.error in ("Q", "H")  # segno raises the level when the version has room
