"""Run the benchmarks against the stack named by the environment.

python -m bench --size tiny|small|full
                [--only relay,consumer,ceilings,http,e2e,rebuild,tracking,scaling,rapor,photos]
                [--out bench/results] [--profile consumer|relay|rebuild|intake-api]
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
from datetime import UTC, datetime

from bench import report
from bench.core import Bench, BenchSkipped
from bench.presets import PRESETS
from shared.config import REPO_ROOT

FIGURES = {
    "relay": "bench.fig1_relay",
    "consumer": "bench.fig2_consumer",
    "ceilings": "bench.ceilings",
    "http": "bench.fig3_http",
    "e2e": "bench.fig4_e2e",
    "rebuild": "bench.fig5_rebuild",
    "tracking": "bench.fig6_tracking",
    "scaling": "bench.fig7_scaling",
    "notifier": "bench.fig9_notifier",
    "rapor": "bench.fig8_rapor",
    "photos": "bench.fig10_photos",
}
# run only when named with --only (kept out of the default run, whose tiny preset is the
# suite's time-boxed smoke test): photos
OPT_IN = frozenset({"photos"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(PRESETS), default="small")
    parser.add_argument("--only", default="", help="comma-separated figures: " + ",".join(FIGURES))
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "bench", "results"))
    parser.add_argument("--profile", default=None, help="run this stage under pyinstrument")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")

    chosen = [f.strip() for f in args.only.split(",") if f.strip()] or [
        f for f in FIGURES if f not in OPT_IN
    ]
    unknown = set(chosen) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    out_dir = os.path.join(args.out, started.strftime("%Y%m%dT%H%M%SZ"))
    preset = PRESETS[args.size]
    bench = Bench(preset, out_dir, profile=args.profile)
    print(f"bench: preset {preset.name}, results in {out_dir}", flush=True)
    try:
        for name in chosen:
            t0 = time.monotonic()
            print(f"bench: {name} ...", flush=True)
            try:
                importlib.import_module(FIGURES[name]).run(bench)
            except BenchSkipped as exc:
                bench.errors[name] = f"skipped: {exc}"
                print(f"bench: {name} skipped: {exc}", flush=True)
            except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the rest
                bench.errors[name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            bench.timings[name] = time.monotonic() - t0
    finally:
        bench.close()
    doc = {
        "preset": preset.name,
        "started_at": started.isoformat(timespec="seconds"),
        "warmup": preset.warmup,
        "reps": preset.reps,
        "figures": chosen,
        "rows": [row.as_dict() for row in bench.rows],
        "errors": bench.errors,
        "stage_seconds": bench.timings,
        "stack": {k: v for k, v in bench.env.items() if k != "DATABASE_ADMIN_URL"},
    }
    json_path, md_path = report.write(out_dir, doc)
    with open(md_path, encoding="utf-8") as fh:
        print(fh.read())
    print(f"bench: wrote {json_path} and {md_path} (copies in {args.out}/latest)")
    failed = {k: v for k, v in bench.errors.items() if not v.startswith("skipped")}
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
