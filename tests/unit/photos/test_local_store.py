"""The local filesystem adapter of the photo store."""

import pytest

from shared.photos.store import LocalPhotoStore, photo_key, store_from_env, thumb_key

SHA = "a" * 64


def test_put_get_delete_keys(tmp_path):
    store = LocalPhotoStore(tmp_path)
    assert store.get(photo_key(SHA)) is None
    store.put(photo_key(SHA), b"jpeg", "image/jpeg")
    store.put(thumb_key(SHA), b"thumb", "image/jpeg")
    assert store.get(photo_key(SHA)) == b"jpeg"
    assert store.keys() == [photo_key(SHA), thumb_key(SHA)]
    store.delete(photo_key(SHA))
    store.delete(photo_key(SHA))  # twice is fine
    assert store.keys() == [thumb_key(SHA)]
    assert not [p for p in tmp_path.rglob(".tmp-*")]


@pytest.mark.parametrize("key", ["../etc/passwd", "photos/../../x.jpg", "photos/abc.jpg", "x/y"])
def test_keys_that_are_not_content_addresses_are_refused(tmp_path, key):
    with pytest.raises(ValueError):
        LocalPhotoStore(tmp_path).put(key, b"x", "image/jpeg")


def test_store_from_env(tmp_path):
    store = store_from_env({"PHOTO_DIR": str(tmp_path)})
    assert store.kind == "local" and store.root == tmp_path
    with pytest.raises(ValueError):
        store_from_env({"PHOTO_STORE": "ftp"})
    with pytest.raises(ValueError):
        store_from_env({"PHOTO_STORE": "s3"})
