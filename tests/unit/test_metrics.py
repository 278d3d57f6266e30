"""Pure parts of the metrics: label bounding, lag arithmetic, which registry /metrics
serves, breach counting, and reading the dashboard's PromQL."""

from datetime import UTC, datetime

from prometheus_client import REGISTRY

from followup_service.domain.events import CaseEscalated, DeadlineMissed, ProgressNoted
from followup_service.metrics import count_deadline_events
from shared.metrics import api_registry, consumer_lag, method_label
from tests.dashboard import dashboard_expressions, promql_metric_names

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_made_up_http_methods_share_one_label_value():
    assert [method_label(m) for m in ("GET", "POST", "DELETE")] == ["GET", "POST", "DELETE"]
    assert method_label("BREW") == method_label("X" * 100) == "other"


def test_lag_is_end_offset_minus_stored_offset_and_from_the_beginning_when_none_is_stored():
    ends = {("t", 0): 10, ("t", 1): 5, ("t", 2): 4, ("t", 3): 9}
    beginnings = {("t", 0): 0, ("t", 1): 2, ("t", 2): 4, ("t", 3): 0}
    stored = {("t", 0): 7, ("t", 3): 12}  # 12: stored past a truncated end -> 0, not -3
    assert consumer_lag(ends, beginnings, stored) == {
        ("t", 0): 3,
        ("t", 1): 3,
        ("t", 2): 0,
        ("t", 3): 0,
    }


def test_an_api_serves_its_own_metrics_summed_over_workers_only_in_multiprocess_mode(
    tmp_path,
):
    from prometheus_client import generate_latest

    from followup_service.metrics import TRACKING_CACHE_HITS
    from shared.metrics import HTTP_REQUEST_DURATION

    served = (HTTP_REQUEST_DURATION, TRACKING_CACHE_HITS)
    single = generate_latest(api_registry(served, environ={})).decode()
    assert "kawal_tracking_cache_hits_total" in single
    assert "kawal_relay_published_events_total" not in single
    assert "process_cpu_seconds_total" not in single
    multi = api_registry(served, environ={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert generate_latest(multi) == b""  # no worker has written a file there


def _meta() -> dict:
    return {
        "case_id": "case-1",
        "occurred_at": NOW,
        "actor": "system:deadline-worker",
    }


def _sample(name: str, deadline: str) -> float:
    return REGISTRY.get_sample_value(name, {"deadline": deadline}) or 0.0


def test_an_escalation_and_a_miss_at_the_top_are_each_one_breach():
    before = {
        (n, d): _sample(n, d)
        for n in ("kawal_deadline_breaches_total", "kawal_deadline_escalations_total")
        for d in ("acknowledge", "resolve")
    }
    escalated = CaseEscalated(
        **_meta(),
        from_agency_id="a",
        from_level=0,
        to_agency_id="b",
        to_agency_name="B",
        to_level=1,
        reason="missed",
        automatic=True,
        breach="acknowledge",
        rule_version="1",
        acknowledge_by=NOW,
        resolve_by=NOW,
    )
    missed = DeadlineMissed(**_meta(), agency_id="b", breach="resolve", due_at=NOW)
    noted = ProgressNoted(**_meta(), text="x", public=True)
    count_deadline_events([escalated, missed, noted])
    moved = {key: _sample(*key) - value for key, value in before.items()}
    assert moved == {
        ("kawal_deadline_breaches_total", "acknowledge"): 1,
        ("kawal_deadline_breaches_total", "resolve"): 1,
        ("kawal_deadline_escalations_total", "acknowledge"): 1,
        ("kawal_deadline_escalations_total", "resolve"): 0,
    }


def test_promql_metric_names_skips_functions_keywords_labels_and_ranges():
    expr = (
        'histogram_quantile(0.95, sum by (job, route, le) (rate(kawal_a_bucket{status=~"5.."}'
        "[5m]))) / on (job) group_left sum without (pid) (kawal_b_total offset 1h) > bool 0"
    )
    assert promql_metric_names(expr) == {"kawal_a_bucket", "kawal_b_total"}


def test_the_dashboard_uses_only_kawal_metrics_and_every_panel_queries_one():
    exprs = dashboard_expressions()
    assert len(exprs) >= 14
    names = set().union(*map(promql_metric_names, exprs))
    assert all(promql_metric_names(e) for e in exprs)
    assert all(name.startswith("kawal_") for name in names), names
