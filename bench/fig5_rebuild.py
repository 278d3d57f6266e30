"""Figure 5 (and the rebuild half of 7): projection rebuild from N case events vs reading
the same events without applying them.

The event log is the real follow-up handler's output for one aspiration, cloned with
fresh ids and COPYed in, so its shape follows the domain model as it changes.
"""

from __future__ import annotations

import inspect
import math
import os
import time

from sqlalchemy import select

from bench.core import Bench, Row
from bench.synthetic import case_template, clone_cases, copy_events


def template(bench: Bench) -> list:
    if not hasattr(bench, "_case_template"):
        bench._case_template = case_template(bench)
    return bench._case_template


class CaseLog:
    """A follow-up database holding about `events` case events (whole cases)."""

    def __init__(self, bench: Bench, events: int, label: str):
        from followup_service.bootstrap import bootstrap

        tpl = template(bench)
        self.cases = math.ceil(events / len(tpl))
        self.settings = bench.settings(
            "followup", bench.create_database("followup"), bench.prefix(label)
        )
        self.fu = bootstrap(self.settings)
        self.events = copy_events(self.fu.engine, clone_cases(tpl, 0, self.cases))

    def rebuild(self) -> int:
        from followup_service import projections

        params = inspect.signature(projections.rebuild).parameters
        extra = (self.fu.rules,) if "rules" in params else ()
        with self.fu.engine.begin() as conn:
            return projections.rebuild(conn, self.fu.store, *extra)

    def read_only(self) -> int:
        with self.fu.engine.connect() as conn:
            return sum(1 for _ in self.fu.store.read_all(conn))

    def raw_scan(self, batch: int = 1000) -> int:
        t = self.fu.store.events
        count, after = 0, 0
        with self.fu.engine.connect() as conn:
            while rows := conn.execute(
                select(t)
                .where(t.c.global_position > after)
                .order_by(t.c.global_position)
                .limit(batch)
            ).all():
                count += len(rows)
                after = rows[-1].global_position
        return count

    def close(self) -> None:
        self.fu.engine.dispose()


def _rate(fn) -> float:
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0)


def measure(bench: Bench, events: int) -> tuple[dict, CaseLog]:
    log = CaseLog(bench, events, "rb")
    reps = min(bench.preset.reps, bench.preset.rebuild_reps_cap.get(events, bench.preset.reps))

    def one() -> dict[str, float]:
        return {
            "rebuild": _rate(log.rebuild),
            "read": _rate(log.read_only),
            "raw": _rate(log.raw_scan),
        }

    try:
        r = bench.repeat(one, reps=reps, warmup=0 if events >= 100_000 else None)
        if bench.profile == "rebuild" and events == max(bench.preset.rebuild_sizes):
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
            log.rebuild()
            profiler.stop()
            path = os.path.join(bench.out_dir, "profile-rebuild.txt")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(profiler.output_text(unicode=True, color=False))
    finally:
        log.close()
    return r, log


def add_rows(bench: Bench, figure: str, events: int, r: dict, log: CaseLog) -> None:
    params = {"events": log.events, "cases": log.cases, "events_per_case": len(template(bench))}
    bench.add(
        Row(
            figure,
            f"rebuild from {log.events:,} events",
            "events/s",
            r["rebuild"],
            "read_all of the same events, not applied",
            r["read"],
            params=params,
            note=f"slowest rebuild {log.events / min(r['rebuild']):.1f} s",
        )
    )
    bench.add(
        Row(
            f"{figure}b",
            f"read_all (envelope + upcast) of {log.events:,} events",
            "events/s",
            r["read"],
            "raw row scan in the same batches",
            r["raw"],
            params=params,
        )
    )


def run(bench: Bench) -> None:
    sizes = bench.preset.rebuild_sizes
    # Figure 5 is the two largest sizes of the scaling series; figure 7 reports the rest.
    for events in sizes[-2:]:
        r, log = measure(bench, events)
        add_rows(bench, "5", events, r, log)
        bench.rebuild_results = {**getattr(bench, "rebuild_results", {}), events: (r, log)}
