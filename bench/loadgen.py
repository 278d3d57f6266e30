"""HTTP load in a second process: wrk (Debian package) with a Lua script, or a small
threaded http.client generator when wrk is missing (or BENCH_LOADGEN=python).

python -m bench.loadgen SPEC.json   # the fallback generator; prints one JSON line

A spec: {"url", "mode": get|single|batch|track, "path", "seconds", "connections",
"token", "run" (8 hex chars, unique per run), "batch_size", "codes" (track mode)}.
Every POST carries a fresh client id and Idempotency-Key, so nothing is a replay.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

ITEM = (
    '{"id":"%s","category":"street_lighting","summary":"PJU mati di gang %d",'
    '"description":"Lampu jalan mati sejak dua minggu, rawan begal.",'
    '"location":{"kelurahan":"Cikande","kecamatan":"Cikande","kabupaten":"Kab. Serang"}}'
)

LUA = r"""
local mode, path, token, run = "{mode}", "{path}", "{token}", "{run}"
local batch_size = {batch_size}
local codes = {{ {codes} }}
local counter = 0
local threads = {{}}
local item = '{item}'

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  tid = tid or 0
  math.randomseed(os.time() + tid)
end

local function next_id()
  counter = counter + 1
  return string.format("%s-%04x-4000-8000-%012x", run, tid, counter)
end

function request()
  if mode == "get" then
    return wrk.format("GET", path)
  end
  if mode == "track" then
    return wrk.format("GET", path .. codes[math.random(#codes)])
  end
  local body
  if mode == "single" then
    body = string.format(item, next_id(), counter)
  else
    local parts = {{}}
    for i = 1, batch_size do
      parts[i] = string.format(item, next_id(), counter)
    end
    body = '{{"aspirations":[' .. table.concat(parts, ",") .. ']}}'
  end
  local headers = {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = next_id(),
  }}
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _lua(spec: dict) -> str:
    codes = ",".join(f'"{c}"' for c in spec.get("codes") or ["KA-0000-00"])
    return LUA.format(
        mode=spec["mode"],
        path=spec["path"],
        token=spec.get("token", ""),
        run=spec["run"],
        batch_size=spec.get("batch_size", 50),
        codes=codes,
        item=ITEM,
    )


def _summary(
    requests: int,
    seconds: float,
    latencies_us: list[float],
    status_errors: int,
    socket_errors: int,
    tool: str,
) -> dict:
    latencies_us.sort()

    def pct(p):
        return latencies_us[min(len(latencies_us) - 1, int(p / 100 * len(latencies_us)))]

    return {
        "tool": tool,
        "requests": requests,
        "rps": requests / seconds,
        "status_errors": status_errors,
        "socket_errors": socket_errors,
        "p50_ms": pct(50) / 1000 if latencies_us else None,
        "p99_ms": pct(99) / 1000 if latencies_us else None,
    }


def run_wrk(spec: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_lua(spec))
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{spec['connections']}",
                f"-d{max(1, round(spec['seconds']))}s",
                "--timeout",
                "10s",
                "-s",
                script,
                spec["url"] + spec["path"],
            ],
            capture_output=True,
            text=True,
            timeout=spec["seconds"] + 60,
        )
    finally:
        os.unlink(script)
    if out.returncode:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    out = out.stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON ") :])
    seconds = r["duration_us"] / 1e6
    return {
        "tool": "wrk",
        "requests": r["requests"],
        "rps": r["requests"] / seconds,
        "status_errors": r["status_errors"],
        "socket_errors": r["socket_errors"],
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
    }


def run_python(spec: dict) -> dict:
    """The fallback generator, run as `python -m bench.loadgen` (a second process)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        path = fh.name
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", path],
            capture_output=True,
            text=True,
            check=True,
            timeout=spec["seconds"] + 60,
        ).stdout
    finally:
        os.unlink(path)
    return json.loads(out.strip().splitlines()[-1])


def run_load(spec: dict) -> dict:
    if os.environ.get("BENCH_LOADGEN") != "python" and shutil.which("wrk"):
        return run_wrk(spec)
    return run_python(spec)


def _worker(spec: dict, tid: int, deadline: float, out: list, lock: threading.Lock):
    parts = urlsplit(spec["url"])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    latencies, status_errors, socket_errors, counter = [], 0, 0, 0
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {spec.get('token')}"}
    while time.perf_counter() < deadline:
        counter += 1
        method, path, body = "GET", spec["path"], None
        if spec["mode"] == "track":
            path += random.choice(spec["codes"])
        elif spec["mode"] in ("single", "batch"):
            method = "POST"
            n = 1 if spec["mode"] == "single" else spec.get("batch_size", 50)
            items = []
            for _ in range(n):
                counter += 1
                items.append(ITEM % (f"{spec['run']}-{tid:04x}-4000-8000-{counter:012x}", counter))
            body = (
                items[0] if spec["mode"] == "single" else f'{{"aspirations":[{",".join(items)}]}}'
            )
            headers["Idempotency-Key"] = f"{spec['run']}-{tid}-{counter}"
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers if body else {})
            resp = conn.getresponse()
            resp.read()
            if resp.status >= 400:
                status_errors += 1
        except (OSError, http.client.HTTPException):
            socket_errors += 1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            continue
        latencies.append((time.perf_counter() - t0) * 1e6)
    with lock:
        out.append((latencies, status_errors, socket_errors))


def main(argv: list[str]) -> None:
    with open(argv[0], encoding="utf-8") as fh:
        spec = json.load(fh)
    start = time.perf_counter()
    deadline = start + spec["seconds"]
    out: list = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_worker, args=(spec, i, deadline, out, lock))
        for i in range(spec["connections"])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies = [x for lat, _, _ in out for x in lat]
    result = _summary(
        len(latencies),
        elapsed,
        latencies,
        sum(o[1] for o in out),
        sum(o[2] for o in out),
        "python",
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
