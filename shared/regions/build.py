"""Derive the vendored dataset file from the idn-area-data npm package.

    npm pack idn-area-data@4.0.1 && tar xzf idn-area-data-4.0.1.tgz
    python -m shared.regions.build package/data deploy/regions/idn-area-data-4.0.1.csv.gz

The output is deterministic (sorted input files in hierarchy order, gzip mtime 0), so the
checksum recorded in deploy/regions/SOURCE.md can be checked by rebuilding.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys

FILES = ("provinces", "regencies", "districts", "villages")


def build(data_dir: str, output: str) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name"])
    count = 0
    for name in FILES:
        with open(f"{data_dir}/{name}.csv", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                writer.writerow([row["code"], row["name"].strip()])
                count += 1
    with open(output, "wb") as out:
        out.write(gzip.compress(buffer.getvalue().encode("utf-8"), compresslevel=9, mtime=0))
    return count


if __name__ == "__main__":
    print(build(sys.argv[1], sys.argv[2]), "regions written")
