"""Image decoding and re-encoding with Pillow. Pure and CPU-bound: callers run it in a thread.

Uploads are decoded (never trusted by name or declared type), checked against a pixel budget before
any pixel is decompressed, turned upright by their EXIF orientation, and re-encoded from raw pixels so
no metadata (EXIF GPS, XMP, comments, ICC) survives. Animated GIFs keep only their first frame.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageOps, UnidentifiedImageError

from starling.errors import Unprocessable

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# What each accepted input is stored as: GIFs become PNG (first frame), the rest keep their format.
OUTPUT = {"JPEG": ("JPEG", "image/jpeg", "jpg"), "PNG": ("PNG", "image/png", "png"),
          "WEBP": ("WEBP", "image/webp", "webp"), "GIF": ("PNG", "image/png", "png")}
PREVIEW = ("JPEG", "image/jpeg", "jpg")
AVATAR_SIDE = 400
HEADER_BOX = (1500, 500)
_BLURHASH_SIDE = 32
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
                  UnidentifiedImageError)


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    ext: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    original: Encoded
    preview: Encoded
    blurhash: str


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Decode `data` into an upright RGB/RGBA image with no metadata. Raises Unprocessable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise Unprocessable("Validation failed: File content type is not supported "
                                    "(JPEG, PNG, WebP or GIF)")
            width, height = probe.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise Unprocessable(f"Validation failed: File is larger than {max_pixels} pixels")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.seek(0)
            image.load()
    except Unprocessable:
        raise
    except (*_DECODE_ERRORS, Image.DecompressionBombWarning):
        raise Unprocessable("Validation failed: File could not be read as an image") from None
    source_format = image.format
    try:
        upright = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        upright = image
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    converted = upright.convert("RGBA" if has_alpha else "RGB")
    # A fresh image from raw pixels carries no info dict, so nothing but pixels reaches the encoder.
    clean = Image.frombytes(converted.mode, converted.size, converted.tobytes())
    clean.format = source_format
    return clean


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image.convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode(image: Image.Image, fmt: str, content_type: str, ext: str) -> Encoded:
    if fmt == "JPEG":
        image = _flatten(image)
    buffer = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 85},
               "PNG": {"optimize": True}}[fmt]
    image.save(buffer, fmt, **options)
    return Encoded(buffer.getvalue(), content_type, ext, image.width, image.height)


def _blurhash(image: Image.Image) -> str:
    thumb = _flatten(image)
    thumb.thumbnail((_BLURHASH_SIDE, _BLURHASH_SIDE))
    # The `blurhash` package takes rows of RGB triples; a thumbnail keeps the encoding cheap.
    raw, width = thumb.tobytes(), thumb.width
    rows = [[tuple(raw[i:i + 3]) for i in range(row * width * 3, (row + 1) * width * 3, 3)]
            for row in range(thumb.height)]
    return blurhash.encode(rows, 4, 3)


def process_upload(data: bytes, *, max_pixels: int, max_side: int, preview_side: int) -> ProcessedImage:
    """A status attachment: the capped original, a preview and a blurhash."""
    image = _open(data, max_pixels)
    fmt, content_type, ext = OUTPUT[image.format]
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    original = _encode(image, fmt, content_type, ext)
    small = image.copy()
    small.thumbnail((preview_side, preview_side), Image.Resampling.LANCZOS)
    preview = _encode(small, *PREVIEW)
    return ProcessedImage(original=original, preview=preview, blurhash=_blurhash(small))


def process_profile_image(data: bytes, kind: str, *, max_pixels: int) -> Encoded:
    """An avatar (centre-cropped square, at most 400px) or a header (within 1500x500)."""
    image = _open(data, max_pixels)
    fmt, content_type, ext = OUTPUT[image.format]
    if kind == "avatar":
        side = min(image.size)
        image = ImageOps.fit(image, (min(side, AVATAR_SIDE),) * 2, Image.Resampling.LANCZOS)
    elif kind == "header":
        image.thumbnail(HEADER_BOX, Image.Resampling.LANCZOS)
    else:
        raise ValueError(f"unknown profile image kind {kind!r}")
    return _encode(image, fmt, content_type, ext)
