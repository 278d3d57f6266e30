"""Photo stores for the tests: the local filesystem and a real S3-compatible server
(s3proxy, started by deploy/stack.sh from scripts/test.sh). A test that needs s3proxy
fails when it is missing, never skips."""

from __future__ import annotations

import os
import uuid

import pytest

from shared.photos.store import LocalPhotoStore, S3PhotoStore

S3_REQUIRED = ("S3PROXY_ENDPOINT", "S3PROXY_ACCESS_KEY", "S3PROXY_SECRET_KEY")


def s3_env(bucket: str) -> dict[str, str]:
    """PHOTO_* settings naming a fresh bucket on the suite's s3proxy."""
    missing = [name for name in S3_REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: run the suite with scripts/test.sh, which starts "
            "s3proxy (deploy/s3proxy/s3proxy.sh) with Kafka, PostgreSQL and Redis."
        )
    return {
        "PHOTO_STORE": "s3",
        "PHOTO_S3_ENDPOINT": os.environ["S3PROXY_ENDPOINT"],
        "PHOTO_S3_ACCESS_KEY": os.environ["S3PROXY_ACCESS_KEY"],
        "PHOTO_S3_SECRET_KEY": os.environ["S3PROXY_SECRET_KEY"],
        "PHOTO_S3_BUCKET": bucket,
    }


@pytest.fixture(params=["local", "s3"])
def photo_store_env(request, tmp_path):
    """The PHOTO_* environment of a fresh store of each kind."""
    if request.param == "local":
        return {"PHOTO_STORE": "local", "PHOTO_DIR": str(tmp_path / "photos")}
    return s3_env(f"kawal-test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def photo_store(photo_store_env):
    env = photo_store_env
    if env["PHOTO_STORE"] == "local":
        return LocalPhotoStore(env["PHOTO_DIR"])
    return S3PhotoStore(
        endpoint=env["PHOTO_S3_ENDPOINT"],
        bucket=env["PHOTO_S3_BUCKET"],
        access_key=env["PHOTO_S3_ACCESS_KEY"],
        secret_key=env["PHOTO_S3_SECRET_KEY"],
    )
