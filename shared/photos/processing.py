"""What an uploaded photo must be, and the safe copy the server keeps instead (pure: bytes
in, bytes out; no storage, no web).

The original upload is never stored. It is decoded to check that it is a photo, then drawn
again into a new image that has nothing but pixels: the EXIF orientation is applied first,
and every piece of metadata (EXIF with GPS, XMP, ICC, comments, maker notes, an appended
trailer) is left behind because it is never copied. The copy is at most MAX_EDGE pixels on
its long side, JPEG, and has a thumbnail. Its name is the sha256 of the stored bytes.

Refusals (each a PhotoRejected with an HTTP status and a code, nothing stored):
- 413 `too_large`: more than MAX_PHOTO_BYTES bytes;
- 413 `too_many_pixels`: the header declares more than MAX_PIXELS pixels (a decompression
  bomb is refused from its header, before a pixel is decoded);
- 415 `unsupported_type`: not a JPEG, PNG, WebP or HEIC image (a PDF or HTML renamed
  .jpg, a GIF, an SVG...);
- 415 `heic_unsupported`: HEIC when no HEIC decoder is installed;
- 422 `not_a_photo`: a ZIP archive joined to an image (a polyglot: the same bytes open as a
  picture and as an archive). Re-encoding would drop the archive anyway, but a camera
  never makes one: the uploader is told rather than silently changed. Other trailers
  phones do write after the image (a motion photo's video, a maker's trailer) are accepted
  and dropped by the re-encode;
- 422 `unreadable`: the header says image but the pixels cannot be decoded (truncated,
  corrupt).
"""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF from phones: pillow-heif (libheif in its wheel)
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - the pin installs it
    HEIC_SUPPORTED = False

MAX_PHOTO_BYTES = 15 * 1024 * 1024  # a 12 MP phone JPEG is 3-8 MB; the page sends ~0.5 MB
MAX_PIXELS = 50_000_000  # 12 MP and 48 MP phone photos pass; a 20,000 x 20,000 bomb does not
MAX_EDGE = 1600  # the kept photo's long side
THUMB_EDGE = 320  # the thumbnail's long side
JPEG_QUALITY = 85
THUMB_QUALITY = 80
FORMATS = ("JPEG", "PNG", "WEBP") + (("HEIF",) if HEIC_SUPPORTED else ())
CONTENT_TYPE = "image/jpeg"


class PhotoRejected(Exception):
    """An upload that is not kept: `status` is the HTTP answer, `code` a stable word."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def as_json(self) -> dict:
        return {"error": "photo rejected", "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str  # of `data`, the stored bytes
    data: bytes  # JPEG, no metadata, long side <= MAX_EDGE
    thumbnail: bytes  # JPEG, long side <= THUMB_EDGE
    width: int
    height: int
    source_format: str  # what was uploaded: JPEG, PNG, WEBP, HEIF

    @property
    def content_type(self) -> str:
        return CONTENT_TYPE


def _looks_heic(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc")


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, edge / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _clean_rgb(img: Image.Image) -> Image.Image:
    """The pixels only, as RGB; transparency over white (a JPEG has none)."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    img.info.clear()  # nothing of the upload's metadata follows (the JPEG writer reads
    return img  # a comment from .info; EXIF, ICC, XMP only from what save() is given)


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def process_upload(data: bytes, max_bytes: int = MAX_PHOTO_BYTES) -> ProcessedPhoto:
    """Check an upload and make the copy the server keeps, or raise PhotoRejected."""
    if len(data) > max_bytes:
        raise PhotoRejected(413, "too_large", f"A photo may be at most {max_bytes} bytes.")
    if not data:
        raise PhotoRejected(422, "empty", "The file is empty.")
    if _looks_heic(data[:16]) and not HEIC_SUPPORTED:
        raise PhotoRejected(
            415, "heic_unsupported", "HEIC photos are not accepted here; send JPEG, PNG or WebP."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise PhotoRejected(
            415, "unsupported_type", "The file is not a JPEG, PNG, WebP or HEIC photo."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(413, "too_many_pixels", _pixels_message()) from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRejected(422, "unreadable", "The photo cannot be read.") from None
    source_format = img.format or ""
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise PhotoRejected(413, "too_many_pixels", _pixels_message())
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise PhotoRejected(
            422, "not_a_photo", "The file is an image joined to an archive; send the photo alone."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if source_format == "JPEG":  # decode a 12 MP JPEG at 1/2 or 1/4 scale when
                img.draft("RGB", _fit((width, height), MAX_EDGE))  # that still covers 1600
            orientation = img.getexif().get(0x0112, 1)
            img.load()
            img = ImageOps.exif_transpose(img) if orientation != 1 else img
            clean = _clean_rgb(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(413, "too_many_pixels", _pixels_message()) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise PhotoRejected(422, "unreadable", "The photo cannot be read.") from None
    if max(clean.size) > MAX_EDGE:
        clean = clean.resize(_fit(clean.size, MAX_EDGE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    stored = _jpeg(clean, JPEG_QUALITY)
    thumb = clean.resize(_fit(clean.size, THUMB_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return ProcessedPhoto(
        sha256=hashlib.sha256(stored).hexdigest(),
        data=stored,
        thumbnail=_jpeg(thumb, THUMB_QUALITY),
        width=clean.width,
        height=clean.height,
        source_format=source_format,
    )


def _pixels_message() -> str:
    return f"The image has more than {MAX_PIXELS} pixels."
