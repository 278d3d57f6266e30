"""App factories for gunicorn that swap one adapter, to measure what it is worth.

gunicorn 'bench.apps:followup_without_cache()' serves the real follow-up app with the
tracking cache replaced by one that always misses (the read-model path of /track).
"""

from __future__ import annotations


class AlwaysMissCache:
    def get(self, tracking_code: str):
        return None

    def put(self, tracking_code: str, version: int, view: dict) -> None:
        pass


def followup_without_cache():
    from followup_service.app import create_app

    app = create_app()
    app.extensions["followup"].tracking = AlwaysMissCache()
    return app
