"""gunicorn settings for both APIs: Prometheus multiprocess mode (shared/metrics.py).

    gunicorn -c shared/gunicorn_conf.py -b 127.0.0.1:8001 -w 2 'intake_service.app:create_app()'

Every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and GET /metrics
sums them. The directory must be set before any worker imports prometheus_client, and
empty at each start (files of an earlier run would be counted again): when the variable
is unset, a new temporary directory is made for this gunicorn and removed at its exit;
when it is set (one directory per service), it is emptied at start. A dead worker's
live gauges are dropped (mark_process_dead); its counters stay in the sums.
"""

import os
import shutil
import tempfile

_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_MADE_HERE = "KAWAL_METRICS_DIR_MADE_BY_GUNICORN"  # remove it at exit (survives a HUP reload)
if not os.environ.get(_VARIABLE):
    os.environ[_VARIABLE] = tempfile.mkdtemp(prefix="kawal-metrics-")
    os.environ[_MADE_HERE] = os.environ[_VARIABLE]


def on_starting(server):
    """Once, in the arbiter, before the first worker: start from an empty directory."""
    path = os.environ[_VARIABLE]
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get(_MADE_HERE) == os.environ[_VARIABLE]:
        shutil.rmtree(os.environ[_VARIABLE], ignore_errors=True)
