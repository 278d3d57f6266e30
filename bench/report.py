"""Writes a run's results: results.json and results.md, plus `latest` copies."""

from __future__ import annotations

import json
import os
import platform
import shutil


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def markdown(doc: dict) -> str:
    lines = [
        f"# Kawal Aspirasi benchmarks ({doc['preset']}, {doc['started_at']})",
        "",
        f"{doc['machine']}. Each figure: median (min-max) over {doc['reps']} timed "
        f"repetitions after {doc['warmup']} warm-up; baseline measured in the same run on "
        "the same broker/database. ratio = figure / baseline; efficiency = how close to the "
        "baseline (1.0 = at the ceiling; latency rows use baseline / figure).",
        "",
        "| # | measure | unit | median | min | max | baseline | baseline median (min-max) "
        "| ratio | efficiency |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        s, b = r["subject"], r["baseline"]
        lines.append(
            f"| {r['figure']} | {r['measure']} | {r['unit']} | {_fmt(s['median'])} | "
            f"{_fmt(s['min'])} | {_fmt(s['max'])} | {r['baseline_name']} | "
            f"{_fmt(b['median'])} ({_fmt(b['min'])}-{_fmt(b['max'])}) | {_fmt(r['ratio'])} | "
            f"{_fmt(r['efficiency'])} |"
        )
    lines += ["", "## Parameters and notes", ""]
    for r in doc["rows"]:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        note = f" — {r['note']}" if r["note"] else ""
        lines.append(f"- {r['figure']} {r['measure']}: {params}{note}")
    if doc["errors"]:
        lines += ["", "## Not measured", ""]
        lines += [f"- {name}: {why}" for name, why in doc["errors"].items()]
    furthest = [r for r in doc["rows"] if r["efficiency"] is not None]
    if furthest:
        worst = min(furthest, key=lambda r: r["efficiency"])
        lines += [
            "",
            f"Furthest from its ceiling: figure {worst['figure']} ({worst['measure']}), "
            f"efficiency {_fmt(worst['efficiency'])}.",
        ]
    lines += [
        "",
        "Stage wall times (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in doc["stage_seconds"].items()),
    ]
    return "\n".join(lines) + "\n"


def write(out_dir: str, doc: dict) -> tuple[str, str]:
    doc = {**doc, "machine": doc.get("machine") or machine()}
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, "results.json")
    md_path = os.path.join(out_dir, "results.md")
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, default=str)
    with open(md_path, "w", encoding="utf-8") as fh:
        fh.write(markdown(doc))
    latest = os.path.join(os.path.dirname(out_dir), "latest")
    os.makedirs(latest, exist_ok=True)
    for path in (json_path, md_path):
        shutil.copy(path, latest)
    return json_path, md_path


def machine() -> str:
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )
