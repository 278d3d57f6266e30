"""The photo store's two adapters behave alike: the local filesystem and a real
S3-compatible server (s3proxy with its filesystem backend)."""

import pytest

from shared.photos import StoreUnavailable, process_upload
from shared.photos.store import S3PhotoStore, photo_key, store_from_env, thumb_key
from tests import photo_fixtures as fx

pytestmark = pytest.mark.integration


def test_processed_photo_round_trip(photo_store):
    photo = process_upload(fx.phone_jpeg(1200, 900))
    assert photo_store.keys() == []  # a fresh store (an S3 bucket not made yet) is empty
    assert photo_store.get(photo_key(photo.sha256)) is None
    photo_store.put(photo_key(photo.sha256), photo.data, photo.content_type)
    photo_store.put(thumb_key(photo.sha256), photo.thumbnail, photo.content_type)
    photo_store.put(photo_key(photo.sha256), photo.data, photo.content_type)  # same address
    assert photo_store.get(photo_key(photo.sha256)) == photo.data
    assert photo_store.get(thumb_key(photo.sha256)) == photo.thumbnail
    assert photo_store.keys() == [photo_key(photo.sha256), thumb_key(photo.sha256)]
    photo_store.delete(photo_key(photo.sha256))
    photo_store.delete(photo_key(photo.sha256))
    assert photo_store.get(photo_key(photo.sha256)) is None
    assert photo_store.keys() == [thumb_key(photo.sha256)]


def test_store_from_env_builds_each_kind(photo_store_env):
    store = store_from_env(photo_store_env)
    assert store.kind == photo_store_env["PHOTO_STORE"]
    store.put(photo_key("c" * 64), b"x", "image/jpeg")
    assert store_from_env(photo_store_env).get(photo_key("c" * 64)) == b"x"


def test_s3_store_that_cannot_be_reached_is_unavailable_not_a_crash():
    from tests.integration.photos.conftest import s3_env

    env = s3_env("kawal-test-unreachable")
    store = S3PhotoStore(
        endpoint="http://127.0.0.1:9",  # discard port: nothing listens
        bucket=env["PHOTO_S3_BUCKET"],
        access_key=env["PHOTO_S3_ACCESS_KEY"],
        secret_key=env["PHOTO_S3_SECRET_KEY"],
    )
    with pytest.raises(StoreUnavailable):
        store.get(photo_key("d" * 64))


def test_s3_store_with_a_wrong_secret_is_unavailable():
    from tests.integration.photos.conftest import s3_env

    env = s3_env("kawal-test-wrong-secret")
    store = S3PhotoStore(
        endpoint=env["PHOTO_S3_ENDPOINT"],
        bucket=env["PHOTO_S3_BUCKET"],
        access_key=env["PHOTO_S3_ACCESS_KEY"],
        secret_key="not-the-secret",
    )
    with pytest.raises(StoreUnavailable):
        store.put(photo_key("e" * 64), b"x", "image/jpeg")
