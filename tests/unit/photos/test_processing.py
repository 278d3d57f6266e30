"""Upload checking and re-encoding (shared.photos.processing): pure, no services."""

import hashlib
import io

import pytest
from PIL import Image

from shared.photos import MAX_EDGE, THUMB_EDGE, PhotoRejected, process_upload
from tests import photo_fixtures as fx


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_phone_photo_is_shrunk_and_loses_every_metadata_byte():
    original = fx.phone_jpeg()
    assert _open(original).getexif().get_ifd(fx.GPS_IFD)  # the fixture does carry GPS
    photo = process_upload(original)
    kept = _open(photo.data)
    assert kept.format == "JPEG"
    assert max(kept.size) == MAX_EDGE and kept.size == (1600, 1200)
    assert len(kept.getexif()) == 0
    assert not set(kept.info) & {"exif", "icc_profile", "xmp", "comment", "photoshop"}
    assert b"Exif" not in photo.data and b"KawalPhone" not in photo.data
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    thumb = _open(photo.thumbnail)
    assert max(thumb.size) == THUMB_EDGE and len(thumb.getexif()) == 0


def test_orientation_is_applied_before_the_tags_go():
    # orientation 6: the camera was turned; the viewer rotates 90 degrees clockwise
    photo = process_upload(fx.phone_jpeg(800, 600, orientation=6))
    kept = _open(photo.data)
    assert kept.size == (600, 800)
    r, g, b = kept.convert("RGB").getpixel((kept.width - 5, 5))  # red block now top-right
    assert r > 200 and g < 60 and b < 60


def test_png_and_webp_are_kept_as_jpeg_and_small_ones_are_not_enlarged():
    for data in (fx.small_png(alpha=True), fx.small_webp()):
        photo = process_upload(data)
        assert _open(photo.data).size == (64, 48)
        assert photo.data[:3] == b"\xff\xd8\xff"


def test_same_photo_same_address():
    data = fx.phone_jpeg(640, 480)
    assert process_upload(data).sha256 == process_upload(data).sha256


@pytest.mark.parametrize("name", sorted(fx.BAD_UPLOADS))
def test_bad_uploads_are_refused_with_a_clear_status(name):
    _, make, status = fx.BAD_UPLOADS[name]
    with pytest.raises(PhotoRejected) as refused:
        process_upload(make())
    assert refused.value.status == status
    assert refused.value.as_json()["code"]


def test_truncated_jpeg_is_unreadable_not_a_crash():
    data = fx.phone_jpeg(640, 480)
    with pytest.raises(PhotoRejected) as refused:
        process_upload(data[: len(data) // 2])
    assert refused.value.status == 422


def test_gif_is_not_a_photo_type_here():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoRejected) as refused:
        process_upload(out.getvalue())
    assert refused.value.status == 415


def test_heic_is_decoded():
    pillow_heif = pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (200, 10, 10)).save(out, "HEIF")
    assert pillow_heif  # the pin installs it; this test fails if the save above cannot
    photo = process_upload(out.getvalue())
    assert photo.source_format == "HEIF" and _open(photo.data).size == (200, 100)
