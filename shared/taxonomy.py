"""The aspiration category taxonomy, read from the routing rules file (one source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml


@dataclass(frozen=True)
class Category:
    id: str
    label_id: str
    label_en: str
    sensitive: bool


@lru_cache(maxsize=8)
def load_categories(path: str) -> dict[str, Category]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {
        cid: Category(
            id=cid,
            label_id=spec.get("label", {}).get("id", cid),
            label_en=spec.get("label", {}).get("en", cid),
            sensitive=bool(spec.get("sensitive", False)),
        )
        for cid, spec in data["categories"].items()
    }
