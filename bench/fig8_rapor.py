"""Figure 8: the public report card `/rapor/<kode>` (issue 26) over a case log of the
preset's tracking size (full: 100,000 cases), beside the same server's no-op /healthz;
8b: how long the worker's refresh of every card takes at that size; 8c: the page's p99 at
a light load (2 connections), beside /healthz's."""

from __future__ import annotations

import time

from bench.core import Bench, Row, http
from bench.fig3_http import load_rows
from bench.fig5_rebuild import CaseLog

PATH = "/rapor/36.04"
LIGHT_CONNECTIONS = 2  # the synthetic cases are all in Cikande, Kabupaten Serang


def run(bench: Bench) -> None:
    from followup_service.report_cards import store

    p = bench.preset
    log = CaseLog(bench, p.tracking_cases * 2, "rpt")  # about 2 events per case
    refresh_seconds = []
    try:
        log.rebuild()  # fills report_case_facts with the other read models
        for _ in range(max(1, min(p.reps, 3))):
            t0 = time.perf_counter()
            with log.fu.engine.begin() as conn:
                cards = store.refresh(conn, log.fu.rules, log.fu.clock())
            refresh_seconds.append(time.perf_counter() - t0)
    finally:
        log.close()
    spec = {"seconds": p.http_seconds, "connections": p.http_connections, "token": ""}
    with bench.gunicorn(log.settings, f"{log.settings.topic_prefix}-followup-api-rapor") as url:
        status, body = http("GET", f"{url}{PATH}")
        if status != 200:
            raise RuntimeError(f"{PATH} answers {status}: {str(body)[:300]}")
        noop = load_rows(bench, url, {**spec, "mode": "get", "path": "/healthz"})
        page = load_rows(bench, url, {**spec, "mode": "get", "path": PATH})
        # the same at a light load: latency without the queue of a saturated machine
        light = {**spec, "connections": LIGHT_CONNECTIONS}
        noop_light = load_rows(bench, url, {**light, "mode": "get", "path": "/healthz"})
        page_light = load_rows(bench, url, {**light, "mode": "get", "path": PATH})
    params = {
        "cases": log.cases,
        "cards": cards,
        "connections": p.http_connections,
        "seconds_per_run": p.http_seconds,
    }
    healthz = "same server, GET /healthz (no-op)"
    bench.add(Row("8", f"GET {PATH} p99", "ms", page["p99"], healthz, noop["p99"],
                  higher_is_better=False, params=params))  # fmt: skip
    bench.add(Row("8", f"GET {PATH}", "pages/s", page["rps"], healthz, noop["rps"], params=params))
    light_params = {**params, "connections": LIGHT_CONNECTIONS}
    bench.add(Row("8c", f"GET {PATH} p99, {LIGHT_CONNECTIONS} connections", "ms",
                  page_light["p99"], healthz, noop_light["p99"], higher_is_better=False,
                  params=light_params))  # fmt: skip
    bench.add(
        Row(
            "8b",
            "refresh of every report card",
            "s",
            refresh_seconds,
            "rebuild-free target: the worker's 30 s sweep",
            [30.0],
            higher_is_better=False,
            params=params,
        )
    )
