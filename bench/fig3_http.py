"""Figure 3: HTTP intake under gunicorn (production workers/threads), load from a second
process, vs the same server answering its no-op /healthz."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from bench.core import Bench, BenchSkipped, Row, compose_gunicorn_args, http
from bench.loadgen import ITEM, run_load
from shared.auth import Tokens

UNIT = "Polsek Cikande"
BATCHES = (50, 500)  # an officer's meeting; the API's cap (MAX_BATCH_ITEMS)


def officer_token(settings) -> str:
    return Tokens(settings.jwt_secret, settings.jwt_issuer).issue("bench", "officer", unit=UNIT)


def create_meeting(url: str, token: str) -> str:
    """A meeting to log batches against; BenchSkipped if the API has no meetings."""
    status, body = http(
        "POST",
        f"{url}/api/v1/meetings",
        {
            "kind": "ngopi_kamtibmas",
            "held_at": datetime.now(UTC).isoformat(),
            "place": {"kelurahan": "Cikande", "kecamatan": "Cikande", "kabupaten": "Kab. Serang"},
            "host_officer": "Aiptu Bench",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    if status in (404, 405):
        raise BenchSkipped("POST /api/v1/meetings not available")
    if status not in (200, 201):
        raise RuntimeError(f"meeting refused: {status} {body}")
    return body["id"]


def batch_connections(preset, size: int) -> int:
    """Fewer connections for bigger batches: each request already carries the work of many."""
    return max(2, preset.http_connections // (4 if size <= 50 else 8))


def probe(spec: dict) -> None:
    """One request of the spec's kind, so a refused body fails loudly before the load."""
    items = [json.loads(ITEM % (str(uuid.uuid4()), i)) for i in range(spec.get("batch_size", 1))]
    body = items[0] if spec["mode"] == "single" else {"aspirations": items}
    headers = {"Authorization": f"Bearer {spec['token']}", "Idempotency-Key": uuid.uuid4().hex}
    status, answer = http("POST", spec["url"] + spec["path"], body, headers=headers)
    if status not in (200, 201):
        raise RuntimeError(f"{spec['mode']} {spec['path']} refused: {status} {answer}")


def load_rows(bench: Bench, url: str, spec: dict) -> dict[str, list[float]]:
    """Repeated runs of one load spec: requests/s, p50 and p99 (ms) per run."""

    def one() -> dict[str, float]:
        r = run_load({**spec, "url": url, "run": uuid.uuid4().hex[:8]})
        if not r["requests"]:
            raise RuntimeError(f"{spec['mode']}: no request completed in {spec['seconds']}s")
        if r["status_errors"] > 0.01 * max(r["requests"], 1) or r["socket_errors"]:
            raise RuntimeError(f"{spec['mode']} {spec['path']}: too many errors {r}")
        bench.loadgen_tool = r["tool"]
        return {"rps": r["rps"], "p50": r["p50_ms"], "p99": r["p99_ms"]}

    return bench.repeat(one)


def run(bench: Bench) -> None:
    p = bench.preset
    prefix = bench.prefix("http")
    settings = bench.settings("intake", bench.create_database("intake"), prefix)
    token = officer_token(settings)
    base = {"seconds": p.http_seconds, "connections": p.http_connections, "token": token}
    with bench.gunicorn(settings, f"{prefix}-intake-api") as url:
        noop = load_rows(bench, url, {**base, "mode": "get", "path": "/healthz"})
        single_spec = {**base, "mode": "single", "path": "/api/v1/aspirations"}
        probe({**single_spec, "url": url})
        single = load_rows(bench, url, single_spec)
        batches = {}
        try:
            meeting = create_meeting(url, token)
            for size in BATCHES:
                batch_spec = {
                    **base,
                    "mode": "batch",
                    "batch_size": size,
                    "seconds": p.http_batch_seconds,
                    "connections": batch_connections(p, size),
                    "path": f"/api/v1/meetings/{meeting}/aspirations",
                }
                probe({**batch_spec, "url": url})
                batches[size] = load_rows(bench, url, batch_spec)
        except BenchSkipped as exc:
            bench.errors["http batch"] = f"skipped: {exc}"
    params = {
        "connections": f"{p.http_connections}, batches: "
        + ", ".join(f"{batch_connections(p, n)} for {n} items" for n in BATCHES),
        "seconds_per_run": p.http_seconds,
        "load_generator": getattr(bench, "loadgen_tool", "?"),
        "server": "gunicorn " + " ".join(compose_gunicorn_args("intake", p.gunicorn_workers)),
    }
    noop_name = "same server, GET /healthz (no-op)"
    bench.add(
        Row(
            "3a",
            "intake single POST",
            "aspirations/s",
            single["rps"],
            noop_name,
            noop["rps"],
            params=params,
        )
    )
    bench.add(
        Row(
            "3a",
            "intake single POST p50",
            "ms",
            single["p50"],
            noop_name,
            noop["p50"],
            higher_is_better=False,
            params=params,
        )
    )
    bench.add(
        Row(
            "3a",
            "intake single POST p99",
            "ms",
            single["p99"],
            noop_name,
            noop["p99"],
            higher_is_better=False,
            params=params,
        )
    )
    for size, batch in batches.items():
        fig = "3b" if size == BATCHES[0] else "3c"
        per_item = [r * size for r in batch["rps"]]
        bench.add(
            Row(
                fig,
                f"intake batch of {size}",
                "aspirations/s",
                per_item,
                f"{noop_name}, requests/s",
                noop["rps"],
                params=params,
                note=f"aspirations/s = batch requests/s x {size}",
            )
        )
        for q in ("p50", "p99"):
            bench.add(
                Row(
                    fig,
                    f"intake batch of {size} {q}",
                    "ms",
                    batch[q],
                    noop_name,
                    noop[q],
                    higher_is_better=False,
                    params=params,
                )
            )
