"""Figure 10: photo uploads/s (issue 25), a 1600 px phone JPEG with GPS EXIF posted to
intake's POST /api/v1/photos in-process (the WSGI app: token check, multipart parsing,
decode, checks, orientation, re-encode without metadata, thumbnail, two blob writes to the
local store, one row in PostgreSQL), beside the raw Pillow rate on the same machine:
decode and re-encode the same bytes as JPEG, nothing else. One thread each."""

from __future__ import annotations

import io
import tempfile
import time

from bench.core import Bench, Row


def run(bench: Bench) -> None:
    from PIL import Image

    from intake_service.app import create_app
    from shared.photos.store import LocalPhotoStore
    from tests.photo_fixtures import phone_jpeg

    count = 10 if bench.preset.name == "tiny" else 40  # the tiny preset is the suite's smoke run
    data = phone_jpeg(1600, 1200, quality=85)
    settings = bench.settings("intake", bench.create_database("intake"), "bench-photos")
    app = create_app(settings)
    token = app.extensions["tokens"].issue("bench-officer", "officer", unit="Polsek Cikande")
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()

    with tempfile.TemporaryDirectory() as directory:
        app.extensions["photo_store"] = LocalPhotoStore(directory)

        def uploads() -> float:
            started = time.perf_counter()
            for _ in range(count):
                answer = client.post(
                    "/api/v1/photos",
                    data={"file": (io.BytesIO(data), "foto.jpg")},
                    headers=headers,
                    content_type="multipart/form-data",
                )
                assert answer.status_code == 201, answer.get_data(as_text=True)[:200]
            return count / (time.perf_counter() - started)

        def raw() -> float:
            started = time.perf_counter()
            for _ in range(count):
                image = Image.open(io.BytesIO(data))
                image.load()
                image.save(io.BytesIO(), "JPEG", quality=85)
            return count / (time.perf_counter() - started)

        try:
            results = bench.repeat(lambda: {"uploads": uploads(), "raw": raw()})
        finally:
            app.extensions["intake"].engine.dispose()  # before the harness drops the database
    bench.add(
        Row(
            "10",
            "photo uploads, 1600 px JPEG (checked, re-encoded, thumbnail, stored, recorded)",
            "uploads/s",
            results["uploads"],
            "raw Pillow decode + JPEG re-encode of the same bytes",
            results["raw"],
            params={"uploads_per_run": count, "input_bytes": len(data), "store": "local"},
        )
    )
