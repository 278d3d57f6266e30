"""The vendored region dataset (deploy/regions/): read once per process, never downloaded.

The file is derived from the npm package idn-area-data (see deploy/regions/SOURCE.md):
one row per region, `code,name`, gzip-compressed; level and parent follow from the code.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from functools import cache

from shared.config import REPO_ROOT
from shared.regions.directory import Region, RegionDirectory

DATASET_NAME = "idn-area-data"
DATASET_VERSION = "4.0.1"
DATASET_PATH = os.path.join(
    REPO_ROOT, "deploy", "regions", f"{DATASET_NAME}-{DATASET_VERSION}.csv.gz"
)


def read_regions(path: str = DATASET_PATH) -> list[Region]:
    with gzip.open(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
        return [Region(row["code"], row["name"]) for row in csv.DictReader(text)]


@cache
def load_directory(path: str = DATASET_PATH) -> RegionDirectory:
    """The whole hierarchy in memory (about 92,000 regions; shared by the process)."""
    return RegionDirectory(read_regions(path))
