"""Takes a reporter's sealed `notify` request from intake's private endpoint (no Kafka).

GET  {intake}/internal/v1/notify-requests/<aspiration_id>  -> {"sealed_contact": ...} | 404
DELETE the same, once the contact is in the follow-up contact store.
The notifier proves it holds the contact key (Authorization: Notifier <fernet token>).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from shared.contact_cipher import ContactCipher

TIMEOUT_SECONDS = 5.0


class IntakeUnavailableError(ConnectionError):
    """Intake did not answer: the poll is handled again later (nothing is lost)."""


class IntakeNotifyRequests:
    def __init__(self, base_url: str, cipher: ContactCipher):
        self.base_url = base_url.rstrip("/")
        self.cipher = cipher

    def _request(self, method: str, path: str):
        url = f"{self.base_url}/internal/v1/{path}"
        headers = {"Authorization": f"Notifier {self.cipher.proof()}"}
        return urllib.request.urlopen(
            urllib.request.Request(url, headers=headers, method=method), timeout=TIMEOUT_SECONDS
        )

    def take(self, aspiration_id: str) -> str | None:
        """The sealed contact for an aspiration, or None when its reporter asked nothing."""
        try:
            with self._request("GET", f"notify-requests/{aspiration_id}") as answer:
                return json.loads(answer.read())["sealed_contact"]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise IntakeUnavailableError(f"intake answered {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            raise IntakeUnavailableError(type(exc).__name__) from None

    def forget(self, aspiration_id: str) -> None:
        try:
            with self._request("DELETE", f"notify-requests/{aspiration_id}"):
                pass
        except (urllib.error.URLError, OSError) as exc:
            raise IntakeUnavailableError(type(exc).__name__) from None

    def erase_stale(self, older_than_days: float) -> int:
        """Have intake erase requests no case took within the retention; how many."""
        try:
            path = f"stale-notify-requests?older_than_days={older_than_days}"
            with self._request("DELETE", path) as answer:
                return json.loads(answer.read())["erased"]
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            raise IntakeUnavailableError(type(exc).__name__) from None
