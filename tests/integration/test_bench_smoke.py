"""The benchmark harness runs end to end on its tiny preset against the session's stack.

Only that it runs and reports every figure: timings are never asserted here.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration

FIGURES = {
    "1",
    "2",
    "C1",
    "C2",
    "C3",
    "2s",
    "2b",
    "3a",
    "3b",
    "3c",
    "4",
    "4b",
    "4c",
    "5",
    "6",
    "7r",
    "7c",
}


@pytest.mark.timeout(420)
def test_harness_reports_every_figure_when_run_on_the_tiny_preset(stack_env, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "tiny", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        # as `make bench` runs on a fresh shell: no KAWAL_ENV, so no development secret
        env={k: v for k, v in {**os.environ, **stack_env}.items() if k != "KAWAL_ENV"},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    latest = tmp_path / "latest"
    doc = json.loads((latest / "results.json").read_text())
    table = (latest / "results.md").read_text()

    assert not doc["errors"], doc["errors"]
    assert {row["figure"] for row in doc["rows"]} >= FIGURES
    for row in doc["rows"]:
        assert row["subject"]["n"] >= 1 and row["baseline"]["n"] >= 1, row
        assert row["ratio"] is not None, row
    assert "| # | measure |" in table
    assert table.count("\n| ") >= len(FIGURES)
