"""Back up and restore the photo store (the recovery drill, docs/OPERATIONS.md).

    python -m shared.photos.backup dump DIR     # every blob of the store into DIR
    python -m shared.photos.backup load DIR     # DIR's blobs into the store (checked)

The store is the one the environment names (PHOTO_STORE, PHOTO_DIR, PHOTO_S3_...; the
same settings the services read), local or S3, so a backup of one kind restores into the
other. Photos are content-addressed: `photos/<sha256>.jpg` must hash to its name, and a
file that does not is refused on load (exit 1), so a damaged backup never serves wrong
bytes. Blobs already in the store are not written again; blobs the store has that the
backup lacks are left alone (a restore never deletes).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from shared.photos.store import PhotoStore, _is_key, store_from_env


def dump(store: PhotoStore, directory: Path) -> int:
    count = 0
    for key in store.keys():  # noqa: SIM118 (a PhotoStore, not a dict)
        data = store.get(key)
        if data is None:  # deleted meanwhile
            continue
        path = directory / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        count += 1
    return count


class DamagedBackup(Exception):
    pass


def load(store: PhotoStore, directory: Path) -> int:
    files = sorted(
        f"{p.parent.name}/{p.name}"
        for p in directory.glob("*/*.jpg")
        if _is_key(f"{p.parent.name}/{p.name}")
    )
    for key in files:  # check everything before writing anything
        if key.startswith("photos/"):
            digest = hashlib.sha256((directory / key).read_bytes()).hexdigest()
            if f"photos/{digest}.jpg" != key:
                raise DamagedBackup(f"{key} does not hash to its name")
    present = set(store.keys())
    count = 0
    for key in files:
        if key not in present:
            store.put(key, (directory / key).read_bytes(), "image/jpeg")
            count += 1
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("dump", "load"):
        print("usage: python -m shared.photos.backup dump|load DIR", file=sys.stderr)
        return 2
    action, directory = argv[0], Path(argv[1])
    store = store_from_env()
    if action == "dump":
        directory.mkdir(parents=True, exist_ok=True)
        print(f"photos: {dump(store, directory)} blobs from the {store.kind} store -> {directory}")
        return 0
    if not directory.is_dir():
        print(f"photos: no {directory}", file=sys.stderr)
        return 1
    try:
        written = load(store, directory)
    except DamagedBackup as exc:
        print(f"photos: refused, the backup is damaged: {exc}", file=sys.stderr)
        return 1
    print(f"photos: {written} blobs into the {store.kind} store <- {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
