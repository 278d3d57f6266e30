"""Photos as evidence (issue 25): what an upload must be, how it is made safe, where it is
kept.

- `processing`: pure. Decode an upload to check it (JPEG, PNG, WebP, HEIC), refuse what is
  not a photo, re-encode it with the orientation applied and every byte of metadata gone
  (EXIF GPS above all), bounded in bytes and pixels, with a thumbnail; the stored bytes are
  named by their sha256.
- `store`: one interface, two adapters: the local filesystem (run.sh, `.local/photos`) and
  an S3-compatible object store through boto3. The service reads blobs and answers them
  itself (proxying), so the one visibility and scope rule decides every fetch.
"""

from shared.photos.processing import (
    MAX_EDGE,
    MAX_PHOTO_BYTES,
    MAX_PIXELS,
    THUMB_EDGE,
    PhotoRejected,
    ProcessedPhoto,
    process_upload,
)
from shared.photos.store import (
    LocalPhotoStore,
    PhotoStore,
    S3PhotoStore,
    StoreUnavailable,
    store_from_env,
)

__all__ = [
    "MAX_EDGE",
    "MAX_PHOTO_BYTES",
    "MAX_PIXELS",
    "THUMB_EDGE",
    "LocalPhotoStore",
    "PhotoRejected",
    "PhotoStore",
    "ProcessedPhoto",
    "S3PhotoStore",
    "StoreUnavailable",
    "process_upload",
    "store_from_env",
]
