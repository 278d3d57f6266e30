"""Figure 7: how the work scales: rebuild at each preset size, consumer throughput over
partitions x consumer processes (each beside raw consumers in the same layout)."""

from __future__ import annotations

from bench.core import Bench, Row
from bench.fig2_consumer import measure_group
from bench.fig5_rebuild import measure


def run(bench: Bench) -> None:
    done = getattr(bench, "rebuild_results", {})
    for events in bench.preset.rebuild_sizes:
        r, log = done[events] if events in done else measure(bench, events)
        per_event = 1e6 / min(r["rebuild"]) if r["rebuild"] else 0
        bench.add(
            Row(
                "7r",
                f"rebuild {log.events:,} events",
                "events/s",
                r["rebuild"],
                "read_all, not applied",
                r["read"],
                params={"events": log.events, "us_per_event": round(per_event)},
            )
        )
    n = bench.preset.grid_events
    for partitions, processes in bench.preset.consumer_grid:
        r = getattr(bench, "consumer_results", {}).get((partitions, processes, n)) or (
            measure_group(bench, partitions, processes, n, f"p{partitions}c{processes}")
        )
        bench.add(
            Row(
                "7c",
                f"consumer, {partitions} partitions x {processes} processes",
                "events/s",
                r["consumer"],
                f"raw consumers, {processes} processes",
                r["raw"],
                params={"events": n, "partitions": partitions, "processes": processes},
            )
        )
