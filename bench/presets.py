"""Size presets: tiny (test smoke, seconds), small (make bench, minutes), full (issue sizes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    warmup: int  # untimed runs before the timed ones
    reps: int  # timed repetitions per figure
    relay_events: int
    consumer_events: int
    ceiling_events: int  # records for the steady-state ceilings (bench/ceilings.py)
    http_seconds: float  # one wrk/loadgen run
    http_connections: int
    http_batch_seconds: float  # batches of 50 are slow: longer runs, fewer connections
    e2e_rate: int  # aspirations per second, steady
    e2e_low_rate: int  # a second, unsaturated rate: the pipeline's own latency
    e2e_high_rate: int  # aspirations/s sent as meeting batches of E2E_HIGH_BATCH (fig4.py)
    e2e_seconds: float
    e2e_sample_every: int  # poll tracking for every n-th aspiration
    rebuild_sizes: tuple[int, ...]
    rebuild_reps_cap: dict  # size -> max repetitions (big rebuilds are slow)
    tracking_cases: int
    tracking_seconds: float
    consumer_grid: tuple[tuple[int, int], ...]  # (partitions, consumer processes)
    grid_events: int
    gunicorn_workers: int | None = None  # None: as in docker-compose.yml (production)


PRESETS = {
    "tiny": Preset(
        name="tiny",
        warmup=0,  # a smoke run: one pass of everything
        reps=1,
        relay_events=300,
        consumer_events=100,
        ceiling_events=2_000,
        http_seconds=1.0,
        http_connections=8,
        http_batch_seconds=2.0,
        e2e_rate=20,
        e2e_low_rate=10,
        e2e_high_rate=50,
        e2e_seconds=1.0,
        e2e_sample_every=1,
        rebuild_sizes=(100, 1000),
        rebuild_reps_cap={},
        tracking_cases=200,
        tracking_seconds=1.0,
        consumer_grid=((3, 1),),  # the figure-2 measurement, reused
        grid_events=100,  # = consumer_events, so figure 2 is reused
        gunicorn_workers=1,  # starts in a second; the smoke run is not about speed
    ),
    "small": Preset(
        name="small",
        warmup=1,
        reps=3,
        relay_events=10_000,
        consumer_events=2_000,
        ceiling_events=100_000,
        http_seconds=5.0,
        http_connections=16,
        http_batch_seconds=8.0,
        e2e_rate=100,
        e2e_low_rate=20,
        e2e_high_rate=500,
        e2e_seconds=15.0,
        e2e_sample_every=5,
        rebuild_sizes=(1_000, 10_000, 100_000),
        rebuild_reps_cap={100_000: 2},  # and no warm-up from 10^5 events on
        tracking_cases=10_000,
        tracking_seconds=5.0,
        consumer_grid=((1, 1), (3, 1), (6, 1), (3, 2), (6, 2), (6, 4)),
        grid_events=1_000,
    ),
    "full": Preset(
        name="full",
        warmup=1,
        reps=5,
        relay_events=100_000,
        consumer_events=20_000,
        ceiling_events=1_000_000,
        http_seconds=15.0,
        http_connections=16,
        http_batch_seconds=20.0,
        e2e_rate=100,
        e2e_low_rate=20,
        e2e_high_rate=500,
        e2e_seconds=60.0,
        e2e_sample_every=5,
        rebuild_sizes=(10_000, 100_000, 1_000_000),
        rebuild_reps_cap={100_000: 3, 1_000_000: 1},
        tracking_cases=100_000,
        tracking_seconds=15.0,
        consumer_grid=((1, 1), (3, 1), (6, 1), (3, 2), (6, 2), (6, 4)),
        grid_events=10_000,
    ),
}
