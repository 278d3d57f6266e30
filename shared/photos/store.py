"""Where photo bytes are kept: one interface, two adapters.

Keys are content addresses: `photos/<sha256>.jpg` and `thumbs/<sha256>.jpg`. Writing the
same photo twice writes the same object; a blob is deleted only when no photo record
refers to it any more (the caller decides that).

**Proxying, not presigned URLs.** The services read the blob and answer it themselves
(`GET /api/v1/photos/<id>` and its thumbnail). A presigned URL is a bearer capability:
once handed out it serves the photo to whoever holds it until it expires, whatever the
aspiration has become since (marked confidential, withdrawn, erased, the liaison moved to
another agency), and it can be forwarded. Proxying keeps the one visibility rule
(followup_service/domain/visibility.py) and the scope rule (shared/need_to_know.py) in
force on every fetch, the bucket stays private with no public endpoint, and the CSP's
`img-src 'self'` holds. The cost, the bytes passing through the API (a 1600 px JPEG is
~0.3-0.6 MB, a thumbnail ~20 kB), is small next to that.

Configuration (environment, read by `store_from_env`):
- `PHOTO_STORE`: `local` (default) or `s3`;
- `PHOTO_DIR`: the local directory (default `<repo>/.local/photos`);
- `PHOTO_S3_ENDPOINT`, `PHOTO_S3_BUCKET`, `PHOTO_S3_ACCESS_KEY`, `PHOTO_S3_SECRET_KEY`,
  `PHOTO_S3_REGION` (`us-east-1`): an S3-compatible store (AWS S3, MinIO, s3proxy...).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[2]
ENV_NAMES = (  # what store_from_env reads (tests/unit/test_compose.py checks compose's)
    "PHOTO_STORE",
    "PHOTO_DIR",
    "PHOTO_S3_ENDPOINT",
    "PHOTO_S3_BUCKET",
    "PHOTO_S3_ACCESS_KEY",
    "PHOTO_S3_SECRET_KEY",
    "PHOTO_S3_REGION",
)


class StoreUnavailable(Exception):
    """The store cannot be reached or refused the operation: the request answers 503."""


class _NoBucket(Exception):
    """The bucket does not exist yet (a fresh store): made on the first write."""


def photo_key(sha256: str) -> str:
    return f"photos/{sha256}.jpg"


def thumb_key(sha256: str) -> str:
    return f"thumbs/{sha256}.jpg"


def put_photo(store: PhotoStore, photo) -> None:
    """Keep a processed photo (shared.photos.ProcessedPhoto): the JPEG and its thumbnail."""
    store.put(photo_key(photo.sha256), photo.data, photo.content_type)
    store.put(thumb_key(photo.sha256), photo.thumbnail, photo.content_type)


def delete_photo(store: PhotoStore, sha256: str) -> None:
    """Delete a photo's JPEG and thumbnail (absent ones are fine: deleting twice is a no-op)."""
    store.delete(photo_key(sha256))
    store.delete(thumb_key(sha256))


def _checked(key: str) -> str:
    parts = key.split("/")
    if len(parts) != 2 or parts[0] not in ("photos", "thumbs") or not parts[1].endswith(".jpg"):
        raise ValueError(f"not a photo key: {key!r}")
    name = parts[1][: -len(".jpg")]
    if len(name) != 64 or any(c not in "0123456789abcdef" for c in name):
        raise ValueError(f"not a photo key: {key!r}")
    return key


def _is_key(key: str) -> bool:
    try:
        _checked(key)
    except ValueError:
        return False
    return True


class PhotoStore(Protocol):
    kind: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> list[str]: ...


class LocalPhotoStore:
    """Files under a directory; writes are atomic (a temporary file renamed into place)."""

    kind = "local"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise StoreUnavailable(f"local photo store: {exc.__class__.__name__}") from exc

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"local photo store: {exc.__class__.__name__}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"local photo store: {exc.__class__.__name__}") from exc

    def keys(self) -> list[str]:
        return sorted(
            f"{d}/{p.name}"
            for d in ("photos", "thumbs")
            if (self.root / d).is_dir()
            for p in (self.root / d).iterdir()
            if p.name.endswith(".jpg") and not p.name.startswith(".")
        )


class S3PhotoStore:
    """An S3-compatible bucket through boto3; the bucket stays private (see the module)."""

    kind = "s3"

    def __init__(
        self,
        endpoint: str | None,
        bucket: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        create_bucket: bool = False,
    ):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                # s3proxy (and other S3-compatible stores) do not know the CRC checksums
                # current boto3 adds by default
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                connect_timeout=3,
                read_timeout=10,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
        if create_bucket:
            self.ensure_bucket()

    def _call(self, fn, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            if code == "NoSuchBucket":
                raise _NoBucket() from exc
            raise StoreUnavailable(f"s3 photo store: {code or 'error'}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"s3 photo store: {exc.__class__.__name__}") from exc

    def ensure_bucket(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise StoreUnavailable(f"s3 photo store: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"s3 photo store: {exc.__class__.__name__}") from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        kwargs = {"Key": _checked(key), "Body": data, "ContentType": content_type}
        try:
            self._call(self.client.put_object, **kwargs)
        except _NoBucket:
            self.ensure_bucket()
            self._call(self.client.put_object, **kwargs)

    def get(self, key: str) -> bytes | None:
        try:
            answer = self._call(self.client.get_object, Key=_checked(key))
        except _NoBucket:
            return None
        return None if answer is None else answer["Body"].read()

    def delete(self, key: str) -> None:
        try:
            self._call(self.client.delete_object, Key=_checked(key))
        except _NoBucket:
            return

    def keys(self) -> list[str]:
        found: list[str] = []
        token = None
        while True:
            kwargs = {"ContinuationToken": token} if token else {}
            try:
                page = self._call(self.client.list_objects_v2, **kwargs) or {}
            except _NoBucket:
                return []
            # (a filesystem-backed store lists its folders as keys too: skip them)
            found += [o["Key"] for o in page.get("Contents", []) if _is_key(o["Key"])]
            if not page.get("IsTruncated"):
                return sorted(found)
            token = page.get("NextContinuationToken")


def store_from_env(env=os.environ, prefix: str = "") -> PhotoStore:
    """The store the settings name (`<PREFIX>PHOTO_...` beats `PHOTO_...`)."""

    def get(name: str, default: str | None = None) -> str | None:
        return env.get(prefix + name) or env.get(name) or default

    kind = (get("PHOTO_STORE", "local") or "local").lower()
    if kind == "s3":
        bucket = get("PHOTO_S3_BUCKET")
        if not bucket:
            raise ValueError("PHOTO_STORE=s3 needs PHOTO_S3_BUCKET")
        return S3PhotoStore(
            endpoint=get("PHOTO_S3_ENDPOINT"),
            bucket=bucket,
            access_key=get("PHOTO_S3_ACCESS_KEY"),
            secret_key=get("PHOTO_S3_SECRET_KEY"),
            region=get("PHOTO_S3_REGION", "us-east-1") or "us-east-1",
        )
    if kind != "local":
        raise ValueError(f"PHOTO_STORE must be local or s3, not {kind!r}")
    return LocalPhotoStore(get("PHOTO_DIR", str(ROOT / ".local" / "photos")) or "")
