"""The Grafana dashboard's PromQL, read as the metric names it needs (tests only)."""

from __future__ import annotations

import json
import os
import re

from tests.support import REPO_ROOT

DASHBOARD = os.path.join(REPO_ROOT, "deploy", "grafana", "kawal-aspirasi.json")
# PromQL words that look like metric names: aggregation modifiers, set operators...
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
_KEYWORDS |= {"and", "or", "unless", "offset", "inf", "nan"}


def dashboard_expressions(path: str = DASHBOARD) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        dashboard = json.load(fh)
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers that are not function calls,
    keywords, label names inside {...} or by (...), strings or [range] durations."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges, subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        name, call = match.group(1), match.group(2)
        if not call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names
