"""Uploaded photos: refused unless they decode as a whole JPEG, PNG or WebP within the limits,
and stored only as freshly encoded JPEG renditions that carry pixels and nothing else.

Every file is a real one made here with Pillow (or written byte by byte where Pillow cannot make
the hostile kind), so the tests exercise the same decoders an upload meets.
"""

import io
import os
import struct
import zlib
from typing import get_args

import pytest
from PIL import Image, ImageCms, ImageFile

from facilities import images
from facilities.images import Processed, RefusedImage, process, target_widths

RED = (255, 0, 0)
BLUE = (0, 0, 255)
HTML = b"<html><script>alert(1)</script></html>"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(width: int, height: int) -> Image.Image:
    # Random pixels compress badly, so the file has real entropy-coded data to cut in half.
    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def opened(rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def refusal(data: bytes) -> RefusedImage:
    with pytest.raises(RefusedImage) as caught:
        process(data)
    assert str(caught.value.message)
    return caught.value


def phone_photo() -> bytes:
    """A landscape-sensor shot held upright: Orientation 6, GPS position, XMP, ICC, comment."""
    sensor = Image.new("RGB", (3000, 2000), BLUE)
    # The sensor's top-left corner, which an upright display shows at the top right.
    sensor.paste(RED, (0, 0, 300, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 26.0)  # 北京 latitude
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 29.0)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        sensor, "JPEG", exif=exif, xmp=XMP, icc_profile=srgb, comment=b"home address", quality=90
    )


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims ``width``×``height`` pixels, with a correct checksum."""
    data = bytearray(encode(Image.new("P", (1, 1)), "PNG"))
    # Signature (8) + length (4) + "IHDR" (4); width and height follow, then the CRC of the chunk.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_a_phone_photo_is_turned_upright_and_stripped_of_every_piece_of_metadata():
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as source:
        # The upload really does carry what must not survive.
        assert source.getexif().get_ifd(0x8825)
        assert {"exif", "icc_profile", "xmp"} <= source.info.keys()

    result = process(original)

    assert [r.width for r in result.renditions] == [480, 960, 1600]
    assert [r.height for r in result.renditions] == [720, 1440, 2400]
    assert (result.width, result.height) == (1600, 2400)
    for rendition in result.renditions:
        image = opened(rendition)
        assert image.format == "JPEG"
        assert image.mode == "RGB"
        assert image.size == (rendition.width, rendition.height)
        assert image.height > image.width
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & image.info.keys()
        assert b"Exif\x00\x00" not in rendition.data
        assert b"home address" not in rendition.data
        assert b"xmpmeta" not in rendition.data
        assert (rendition.content_type, rendition.extension) == ("image/jpeg", "jpg")
        # Orientation 6 moves the sensor's top-left corner to the displayed top right.
        top_right = image.getpixel((image.width - 5, 5))
        top_left = image.getpixel((5, 5))
        assert top_right[0] > 200 and top_right[2] < 60
        assert top_left[2] > 200 and top_left[0] < 60


def test_renditions_are_progressive_jpegs():
    result = process(encode(noise(1000, 800), "JPEG"))

    assert all(opened(r).info.get("progressive") for r in result.renditions)


def test_a_photo_narrower_than_every_width_keeps_its_own_size():
    result = process(encode(Image.new("RGB", (300, 200), RED), "JPEG"))

    assert result == Processed(width=300, height=200, renditions=result.renditions)
    assert [(r.width, r.height) for r in result.renditions] == [(300, 200)]
    assert opened(result.renditions[0]).size == (300, 200)


@pytest.mark.parametrize(
    ("width", "widths"),
    [
        (1, (1,)),
        (300, (300,)),
        (480, (480,)),
        (1000, (480, 960, 1000)),
        (1600, (480, 960, 1600)),
        (6000, (480, 960, 1600)),
    ],
)
def test_it_never_makes_a_rendition_wider_than_the_photo(width, widths):
    assert target_widths(width) == widths


@pytest.mark.parametrize(
    "transparent",
    [
        pytest.param(lambda: Image.new("RGBA", (400, 300), (0, 0, 0, 0)), id="rgba-png"),
        pytest.param(lambda: Image.new("LA", (400, 300), (0, 0)), id="grey-alpha-png"),
    ],
)
def test_a_transparent_png_is_laid_on_white(transparent):
    image = transparent()
    image.paste((*RED, 255) if image.mode == "RGBA" else (0, 255), (0, 0, 100, 100))

    result = process(encode(image, "PNG"))

    (rendition,) = result.renditions
    flattened = opened(rendition)
    assert flattened.format == "JPEG" and flattened.mode == "RGB"
    assert all(channel > 245 for channel in flattened.getpixel((300, 200)))
    assert flattened.getpixel((50, 50))[1] < 20  # the opaque corner keeps its colour


def test_a_palette_png_with_a_transparent_index_is_laid_on_white():
    image = Image.new("P", (200, 100), 1)
    image.putpalette([*RED, 0, 0, 0])
    image.paste(0, (0, 0, 50, 50))

    result = process(encode(image, "PNG", transparency=1))

    flattened = opened(result.renditions[0])
    assert all(channel > 245 for channel in flattened.getpixel((150, 80)))
    assert flattened.getpixel((10, 10))[0] > 240


def test_a_transparent_webp_is_laid_on_white():
    image = Image.new("RGBA", (500, 300), (0, 0, 0, 0))

    result = process(encode(image, "WEBP", lossless=True))

    assert all(channel > 245 for channel in opened(result.renditions[0]).getpixel((250, 150)))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_image_keeps_its_first_frame(fmt):
    frames = [Image.new("RGB", (400, 300), colour) for colour in (RED, BLUE)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    with Image.open(io.BytesIO(data)) as source:
        assert source.n_frames == 2

    result = process(data)

    red, _, blue = opened(result.renditions[0]).getpixel((200, 150))
    assert red > 240 and blue < 20


def test_a_colour_profile_is_applied_and_not_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    result = process(encode(Image.new("RGB", (500, 500), RED), "PNG", icc_profile=srgb))

    image = opened(result.renditions[-1])
    assert "icc_profile" not in image.info
    assert image.getpixel((250, 250))[0] > 240


def test_a_jpeg_with_html_appended_is_stored_as_pixels_only():
    # Browsers that sniff content could run the appended markup; the re-encoding drops it.
    for size in [(300, 200), (2000, 1000)]:
        polyglot = encode(Image.new("RGB", size, RED), "JPEG") + HTML
        with Image.open(io.BytesIO(polyglot)) as source:
            assert source.format == "JPEG"

        result = process(polyglot)

        for rendition in result.renditions:
            assert b"<script" not in rendition.data.lower()
            assert b"<html" not in rendition.data.lower()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GIF89a" + HTML, id="gif-header-html-polyglot"),
        pytest.param(encode(Image.new("RGB", (50, 50), RED), "GIF"), id="real-gif"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
            b"<script>alert(1)</script><rect width='100' height='100'/></svg>",
            id="svg",
        ),
        pytest.param(encode(Image.new("RGB", (50, 50), RED), "PDF"), id="pdf-named-jpg"),
        pytest.param(encode(Image.new("RGB", (50, 50), RED), "BMP"), id="bmp"),
        pytest.param(encode(Image.new("RGB", (50, 50), RED), "TIFF"), id="tiff"),
        pytest.param("菜单：红烧肉 12元".encode(), id="text"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_file_that_is_not_a_jpeg_png_or_webp_is_refused(data):
    assert refusal(data).code == "not_image"


def test_the_pdf_is_a_real_pdf():
    # Guards the parameter above: Pillow's PDF writer makes a real document, not an image.
    assert encode(Image.new("RGB", (50, 50), RED), "PDF").startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(50_000, 50_000, id="beyond-pillows-own-bomb-limit"),
        pytest.param(10_000, 5_000, id="within-pillows-limit-beyond-ours"),
    ],
)
def test_a_png_whose_header_claims_too_many_pixels_is_refused(width, height):
    bomb = png_claiming(width, height)

    assert len(bomb) < 100
    assert refusal(bomb).code == "too_many_pixels"


def test_the_pixel_limit_holds_even_when_pillows_own_limit_is_switched_off(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    # A real, fully decodable 48-megapixel image that is a few kilobytes on disk.
    bomb = encode(Image.new("1", (8_000, 6_000)), "PNG", optimize=True)
    assert len(bomb) < 50_000

    assert refusal(bomb).code == "too_many_pixels"
    assert refusal(png_claiming(50_000, 50_000)).code == "too_many_pixels"


def test_the_pixel_limit_admits_a_photo_just_within_it(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000 * 800)

    assert process(encode(Image.new("RGB", (1_000, 800), RED), "PNG")).width == 1_000
    assert refusal(encode(Image.new("RGB", (1_001, 800), RED), "PNG")).code == "too_many_pixels"


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda: encode(noise(1_200, 900), "JPEG"), id="jpeg"),
        pytest.param(lambda: encode(noise(3_000, 2_000), "JPEG"), id="large-jpeg-decoded-in-draft"),
        pytest.param(lambda: encode(noise(600, 400), "PNG"), id="png"),
        pytest.param(lambda: encode(noise(600, 400), "WEBP"), id="webp"),
    ],
)
def test_a_file_cut_in_half_is_refused_as_damaged(cut):
    whole = cut()
    assert process(whole).renditions

    assert refusal(whole[: len(whole) // 2]).code == "damaged"


def test_it_refuses_to_run_if_truncated_images_were_allowed(monkeypatch):
    # Somebody else's setting would otherwise store half-uploaded photos with a grey lower half.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError):
        process(encode(Image.new("RGB", (10, 10)), "JPEG"))


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded():
    error = refusal(os.urandom(images.MAX_BYTES + 1))

    assert error.code == "too_big"
    assert "15 MB" in str(error.message)


def test_the_size_limit_applies_to_a_valid_photo_too(monkeypatch):
    photo = encode(noise(200, 200), "JPEG")
    monkeypatch.setattr(images, "MAX_BYTES", len(photo) - 1)

    assert refusal(photo).code == "too_big"


def test_a_file_exactly_at_the_size_limit_is_judged_on_its_content(monkeypatch):
    photo = encode(noise(200, 200), "JPEG")
    monkeypatch.setattr(images, "MAX_BYTES", len(photo))

    assert process(photo).width == 200


def test_every_refusal_explains_itself_in_a_sentence():
    messages = {code: str(RefusedImage(code).message) for code in get_args(images.Code)}

    assert len(set(messages.values())) == 4
    assert all(message.endswith(("。", ".")) for message in messages.values())  # zh or en
