"""Write demo sign-in tokens for each staff role of the system run.sh started.

The liaison is bound to the agency holding the first routed demo case and the officer
to that case's unit, so both see real work in their pages. Development only: the
tokens are signed with the secret of this machine's environment.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
from datetime import timedelta

from shared.auth import Tokens
from shared.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followup-url", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    settings = Settings.from_env("tokens", default_database_url="")
    tokens = Tokens(settings.jwt_secret, settings.jwt_issuer)
    ttl = timedelta(days=7)
    supervisor = tokens.issue("demo-supervisor", "supervisor", ttl=ttl)
    listed = _get(f"{args.followup_url}/api/v1/cases?per_page=100", supervisor)["items"]
    first = next(item for item in listed if item["agency"] and not item["sensitive"])
    case = _get(f"{args.followup_url}/api/v1/cases/{first['id']}", supervisor)
    liaison = tokens.issue("demo-liaison", "liaison", agency=case["agency"]["id"], ttl=ttl)
    lines = [
        f"# Demo sign-ins (paste a token at /masuk). Case {case['tracking_code']} is with",
        f"# {case['agency']['name']} ({case['agency']['id']}), unit {case['unit']}.",
        f"officer    {tokens.issue('demo-officer', 'officer', unit=case['unit'], ttl=ttl)}",
        f"liaison    {liaison}",
        f"supervisor {supervisor}",
        f"admin      {tokens.issue('demo-admin', 'admin', ttl=ttl)}",
    ]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


if __name__ == "__main__":
    main()
