"""Uploaded photos: the one place that decides whether a file is a photo we take, and turns it
into the renditions pages serve.

Nothing a visitor's browser receives comes from the uploaded bytes themselves: the photo is
decoded to pixels and encoded anew, so whatever else the file carried (EXIF with the GPS
position of a staff member's home, XMP, colour profiles, comments, HTML or script appended to
the image data) is left behind.

The renditions are JPEG rather than WebP. Many residents browse on old phones: iOS before 14
(every iPhone 6 and older) and some older in-app browsers cannot show WebP, while JPEG shows
everywhere, so one format serves every page without ``<picture>`` fallbacks. At quality 82 a
1600-pixel photo stays around a few hundred kilobytes.
"""

import io
import warnings
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext
from PIL import Image, ImageFile, ImageOps

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without littlecms: profiles are dropped, not converted
    ImageCms = None

MAX_BYTES = 15 * 1024 * 1024
# A 40-megapixel photo is larger than any phone camera takes today; decoding one already holds
# about 120 MB of RGB pixels in memory, and the limit is checked before anything is decoded.
MAX_PIXELS = 40_000_000
ACCEPTED = {"JPEG", "PNG", "WEBP"}
# The widths the pages' srcset offers: a phone list thumbnail, a phone screen at 2x, a desktop.
WIDTHS = (480, 960, 1600)

JPEG_QUALITY = 82
WHITE = (255, 255, 255)
# Samsung and other Android cameras write multi-picture JPEGs (MPO: the photo plus a preview or
# depth map); Pillow names them apart, but they are JPEG files and the first picture is the photo.
SAME_FORMAT = {"MPO": "JPEG"}

Code = Literal["not_image", "too_big", "too_many_pixels", "damaged"]


class RefusedImage(Exception):
    """An upload that is not a photo we accept; ``message`` tells the staff member why."""

    def __init__(self, code: Code):
        self.code = code
        self.message = _message(code)
        super().__init__(self.message)


def _message(code: Code) -> str:
    if code == "too_big":
        return gettext(
            "The photo is larger than %(megabytes)s MB. Please choose a smaller photo, or "
            "reduce its size on your phone or computer first."
        ) % {"megabytes": f"{MAX_BYTES / 2**20:g}"}
    if code == "too_many_pixels":
        return gettext(
            "The photo has more than %(millions)s million pixels. Please choose a smaller "
            "photo, or reduce its size on your phone or computer first."
        ) % {"millions": f"{MAX_PIXELS / 1_000_000:g}"}
    if code == "damaged":
        return gettext(
            "The file is damaged or incomplete. Please save the photo again and upload the new "
            "file."
        )
    return gettext(
        "This file is not a JPEG, PNG or WebP photo. Please choose a photo in one of these formats."
    )


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes
    content_type: str = "image/jpeg"
    extension: str = "jpg"


@dataclass(frozen=True)
class Processed:
    width: int  # of the largest rendition
    height: int
    renditions: tuple[Rendition, ...]  # ascending width


def process(data: bytes) -> Processed:
    """Judge ``data`` as an uploaded photo and re-encode it at the widths pages need.

    Raises ``RefusedImage`` for anything that is not a whole JPEG, PNG or WebP photo within the
    size and pixel limits. Animated images keep their first frame.
    """
    if len(data) > MAX_BYTES:
        raise RefusedImage("too_big")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # A half-uploaded photo would be stored with a grey lower half instead of being refused.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False.")
    renditions = tuple(_renditions(_decode(data)))
    largest = renditions[-1]
    return Processed(width=largest.width, height=largest.height, renditions=renditions)


def target_widths(width: int) -> tuple[int, ...]:
    """The rendition widths for a photo ``width`` pixels wide: never wider than the photo."""
    return tuple(sorted({w for w in WIDTHS if w < width} | {min(width, max(WIDTHS))}))


def _decode(data: bytes) -> Image.Image:
    """The photo's pixels as an upright RGB image that carries no metadata."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; a bomb is refused, not
            # decoded with a warning in the log.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the three accepted decoders ever see the bytes: an SVG, PDF or GIF is not
            # parsed at all.
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED)) as image:
                if SAME_FORMAT.get(image.format, image.format) not in ACCEPTED:
                    raise RefusedImage("not_image")
                # The size comes from the header alone: refuse before any pixel is decoded.
                if image.width * image.height > MAX_PIXELS:
                    raise RefusedImage("too_many_pixels")
                if image.format in ("JPEG", "MPO"):
                    # Let libjpeg decode at a reduced scale that still covers the largest width
                    # in either orientation; it reads the whole stream, so damage still shows.
                    image.draft("RGB", (max(WIDTHS), max(WIDTHS)))
                image.load()
                return _flatten(_to_srgb(ImageOps.exif_transpose(image)))
    except Image.UnidentifiedImageError:
        raise RefusedImage("not_image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RefusedImage("too_many_pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise RefusedImage("damaged") from None


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels described by an embedded colour profile to sRGB, which pages assume.

    A photo from a wide-gamut camera (Display P3) would look dull if its profile were simply
    dropped. Without littlecms, or with a profile that does not fit the pixels, it is dropped.
    """
    profile = image.info.get("icc_profile")
    if not profile or ImageCms is None or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        return ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if image.mode == "RGBA" else "RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image


def _flatten(image: Image.Image) -> Image.Image:
    """A fresh RGB image holding only the pixels, transparency laid on white.

    Building a new image (rather than converting) is what guarantees no ``info`` travels on:
    Pillow copies ``info`` (EXIF, XMP, ICC, comments) into every converted or resized image.
    """
    canvas = Image.new("RGB", image.size, WHITE)
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        canvas.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    else:
        canvas.paste(image if image.mode == "RGB" else image.convert("RGB"))
    return canvas


def _renditions(pixels: Image.Image) -> list[Rendition]:
    renditions = []
    for width in target_widths(pixels.width):
        height = max(1, round(pixels.height * width / pixels.width))
        resized = pixels if width == pixels.width else _resize(pixels, width, height)
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        renditions.append(Rendition(width=width, height=height, data=out.getvalue()))
    return renditions


def _resize(pixels: Image.Image, width: int, height: int) -> Image.Image:
    # reducing_gap first shrinks by whole factors cheaply, then Lanczos finishes: on a large
    # photo the result cannot be told from a full Lanczos resize and costs a fraction.
    return pixels.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
