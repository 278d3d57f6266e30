"""Photo uploads made with Pillow for the tests: a phone photo with GPS EXIF, and the bad
uploads issue 25 names (a PDF renamed .jpg, a PNG bomb, a 30 MB file, a JPEG with a ZIP
appended, HTML with an image extension)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "KawalPhone"  # Make
    exif[0x0110] = "Model 12"  # Model
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "S",
        2: (6.0, 10.0, 30.0),  # a home in Jakarta, to the metre
        3: "E",
        4: (106.0, 49.0, 40.0),
    }
    return exif


def phone_jpeg(width: int = 4000, height: int = 3000, orientation: int = 1, quality=80) -> bytes:
    """A 12 MP JPEG (by default) with GPS EXIF, a maker, a model and an orientation."""
    img = Image.new("RGB", (width, height))
    # a gradient with a red block in the top-left corner, so orientation can be checked
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    img.paste((255, 0, 0), (0, 0, width // 4, height // 4))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=gps_exif(orientation).tobytes())
    return out.getvalue()


def small_png(width=64, height=48, alpha=False) -> bytes:
    img = Image.new("RGBA" if alpha else "RGB", (width, height), (10, 120, 200, 128))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def small_webp(width=64, height=48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 200, 0)).save(out, "WEBP")
    return out.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def png_bomb(side: int = 20_000) -> bytes:
    """A valid PNG of side x side pixels, one bit deep, all zero: a few kB on the wire,
    400 MP (1.2 GB as RGB) once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def big_file(size: int = 30 * 1024 * 1024) -> bytes:
    """30 MB that starts like a JPEG."""
    head = phone_jpeg(64, 48)
    return head + b"\x00" * (size - len(head))


def jpeg_with_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("payload.txt", "not a photo")
    return phone_jpeg(320, 240) + out.getvalue()


def html_as_image() -> bytes:
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"


BAD_UPLOADS = {
    "pdf renamed .jpg": ("laporan.jpg", pdf_bytes, 415),
    "20,000 x 20,000 PNG bomb": ("bom.png", png_bomb, 413),
    "30 MB file": ("besar.jpg", big_file, 413),
    "JPEG with a ZIP appended": ("polyglot.jpg", jpeg_with_zip, 422),
    "HTML with an image extension": ("halaman.png", html_as_image, 415),
}
