"""QR codes as inline SVG, for the printable facility poster."""

import io

import segno
from django.utils.safestring import SafeString, mark_safe

# Q restores up to a quarter of the modules: posters hang on notice boards and in stairwells,
# where they get creased, scuffed and half covered; the short page addresses stay a small symbol.
ERROR = "q"
BORDER = 4  # the quiet zone ISO/IEC 18004 asks for, in modules
SVG_CLASS = "qr"
MODULES_CLASS = "qr__modules"


def make(url: str) -> segno.QRCode:
    """The symbol for ``url``: always a full QR code, as phone cameras read Micro QR poorly."""
    return segno.make_qr(url, error=ERROR)


def qr_svg(url: str, *, title: str) -> SafeString:
    """An ``<svg>`` element that draws the QR code for ``url``, to embed inline.

    It has a viewBox and no width or height, so the stylesheet sets its printed size (3–4 cm on
    the A4 poster); black modules on a white ground, whatever the page colours are. No ``style``
    attribute (the CSP allows none) and no XML declaration. ``title`` names it for screen readers.
    """
    out = io.BytesIO()
    make(url).save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        title=title,  # segno escapes it
        svgclass=SVG_CLASS,
        lineclass=MODULES_CLASS,
        omitsize=True,
        border=BORDER,
        dark="#000000",
        light="#ffffff",
        nl=False,
    )
    svg = out.getvalue().decode()
    # An inline <svg> is named by its <title> only with an image role; segno writes no role.
    prefix = "<svg "
    if not svg.startswith(prefix):
        raise ValueError("segno's SVG no longer starts with <svg: check qr_svg")
    return mark_safe(f'<svg role="img" {svg.removeprefix(prefix)}')  # segno escaped the title
