"""The photo store's part of the recovery drill: `python -m shared.photos.backup dump|load`
copies every blob out of one store and into another (local or s3proxy, either way), and
refuses a damaged backup before writing anything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared.photos import process_upload
from shared.photos.store import LocalPhotoStore, photo_key, thumb_key
from tests import photo_fixtures as fx
from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration


def run(action: str, directory, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_")}
    return subprocess.run(
        [sys.executable, "-m", "shared.photos.backup", action, str(directory)],
        env={**clean, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dump_then_load_into_an_empty_store_of_the_other_kind(
    photo_store,
    photo_store_env,
    tmp_path,
):
    photos = [process_upload(fx.phone_jpeg(640, 480)), process_upload(fx.small_png())]
    for p in photos:
        photo_store.put(photo_key(p.sha256), p.data, p.content_type)
        photo_store.put(thumb_key(p.sha256), p.thumbnail, p.content_type)
    dumped = run("dump", tmp_path / "backup", photo_store_env)
    assert dumped.returncode == 0, dumped.stderr
    # restore into a fresh local store (from local, or from s3proxy)
    target = {"PHOTO_STORE": "local", "PHOTO_DIR": str(tmp_path / "restored")}
    loaded = run("load", tmp_path / "backup", target)
    assert loaded.returncode == 0, loaded.stderr
    restored = LocalPhotoStore(tmp_path / "restored")
    assert restored.keys() == photo_store.keys()
    for p in photos:
        assert restored.get(photo_key(p.sha256)) == p.data
        assert restored.get(thumb_key(p.sha256)) == p.thumbnail
    again = run("load", tmp_path / "backup", target)  # idempotent
    assert again.returncode == 0 and "0 blobs" in again.stdout


def test_a_damaged_backup_is_refused_before_anything_is_written(
    photo_store,
    photo_store_env,
    tmp_path,
):
    photo = process_upload(fx.small_webp())
    backup = tmp_path / "backup" / "photos"
    backup.mkdir(parents=True)
    (backup / f"{photo.sha256}.jpg").write_bytes(photo.data[:-10] + b"0123456789")
    loaded = run("load", tmp_path / "backup", photo_store_env)
    assert loaded.returncode == 1 and "damaged" in loaded.stderr
    assert photo_store.keys() == []
