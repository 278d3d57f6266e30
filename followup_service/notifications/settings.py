"""Notifier settings from the environment (FOLLOWUP_<NAME> beats <NAME> beats the default)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env(name: str, default: str = "") -> str:
    return os.environ.get("FOLLOWUP_" + name) or os.environ.get(name) or default


def _flag(name: str, default: bool = False) -> bool:
    return _env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class NotifySettings:
    public_base_url: str = "http://127.0.0.1:8002"
    retention_days: float = 30  # contacts erased this long after their case closes
    erase_interval: float = 60.0  # seconds between the sender's erasure sweeps
    quiet_hours: str = "21:00-06:00"  # Asia/Jakarta; WhatsApp and SMS wait, email does not
    max_attempts: int = 6  # then the message goes to the dead-letter list
    backoff_base: float = 2.0  # seconds; doubled per attempt, with jitter, capped
    backoff_cap: float = 300.0
    sender_interval: float = 0.2  # seconds between outbox polls when idle
    sender_batch: int = 100
    lease_seconds: float = 30.0  # a claimed message not marked sent by then is tried again
    confirm_limit_per_contact: int = 3  # subscription codes per address per day
    confirm_limit_per_client: int = 10  # subscription codes per client address per day
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_from: str = "Kawal Aspirasi <kabar@kawal-aspirasi.local>"
    smtp_ca_file: str = ""  # a CA bundle to trust for TLS (default: the system's)
    smtp_timeout: float = 10.0
    whatsapp_api_url: str = ""  # e.g. https://graph.facebook.com/v21.0
    whatsapp_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_template: str = "kawal_kabar"
    sms_gateway_url: str = ""
    sms_token: str = ""
    sms_sender: str = "KAWAL"
    # inbound STOP (followup_service/notifications/inbound.py); unset: that webhook is off
    whatsapp_webhook_verify_token: str = ""  # what Meta's verification request must echo
    whatsapp_app_secret: str = ""  # signs Meta's deliveries (X-Hub-Signature-256)
    sms_webhook_secret: str = ""  # the gateway sends it in X-Gateway-Secret
    http_timeout: float = 10.0

    @classmethod
    def from_env(cls) -> NotifySettings:
        return cls(
            public_base_url=_env("PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
            retention_days=float(_env("NOTIFY_RETENTION_DAYS", "30")),
            erase_interval=float(_env("NOTIFY_ERASE_INTERVAL", "60")),
            quiet_hours=_env("NOTIFY_QUIET_HOURS", cls.quiet_hours),
            max_attempts=int(_env("NOTIFY_MAX_ATTEMPTS", "6")),
            backoff_base=float(_env("NOTIFY_BACKOFF_BASE", "2")),
            backoff_cap=float(_env("NOTIFY_BACKOFF_CAP", "300")),
            sender_interval=float(_env("NOTIFY_SENDER_INTERVAL", "0.2")),
            lease_seconds=float(_env("NOTIFY_LEASE_SECONDS", "30")),
            smtp_host=_env("SMTP_HOST"),
            smtp_port=int(_env("SMTP_PORT", "25")),
            smtp_user=_env("SMTP_USER"),
            smtp_password=_env("SMTP_PASSWORD"),
            smtp_starttls=_flag("SMTP_STARTTLS"),
            smtp_ssl=_flag("SMTP_SSL"),
            smtp_from=_env("SMTP_FROM", cls.smtp_from),
            smtp_ca_file=_env("SMTP_CA_FILE"),
            whatsapp_api_url=_env("WHATSAPP_API_URL").rstrip("/"),
            whatsapp_token=_env("WHATSAPP_TOKEN"),
            whatsapp_phone_number_id=_env("WHATSAPP_PHONE_NUMBER_ID"),
            whatsapp_template=_env("WHATSAPP_TEMPLATE", cls.whatsapp_template),
            sms_gateway_url=_env("SMS_GATEWAY_URL"),
            sms_token=_env("SMS_TOKEN"),
            sms_sender=_env("SMS_SENDER", cls.sms_sender),
            whatsapp_webhook_verify_token=_env("WHATSAPP_WEBHOOK_VERIFY_TOKEN"),
            whatsapp_app_secret=_env("WHATSAPP_APP_SECRET"),
            sms_webhook_secret=_env("SMS_WEBHOOK_SECRET"),
        )

    def inbound_stop_off(self) -> list[str]:
        """A line for each channel whose inbound STOP webhook is off (its secret unset)."""
        off = []
        if not (self.whatsapp_app_secret and self.whatsapp_webhook_verify_token):
            off.append("whatsapp: WHATSAPP_APP_SECRET, WHATSAPP_WEBHOOK_VERIFY_TOKEN not set")
        if not self.sms_webhook_secret:
            off.append("sms: SMS_WEBHOOK_SECRET not set")
        return off


# every variable this module and shared/contact_cipher.py read (tests/unit/test_compose.py)
ENV_NAMES = (
    "PUBLIC_BASE_URL",
    "NOTIFY_CONTACT_KEY",
    "NOTIFY_RETENTION_DAYS",
    "NOTIFY_ERASE_INTERVAL",
    "NOTIFY_QUIET_HOURS",
    "NOTIFY_MAX_ATTEMPTS",
    "NOTIFY_BACKOFF_BASE",
    "NOTIFY_BACKOFF_CAP",
    "NOTIFY_SENDER_INTERVAL",
    "NOTIFY_LEASE_SECONDS",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "SMTP_SSL",
    "SMTP_FROM",
    "SMTP_CA_FILE",
    "WHATSAPP_API_URL",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_TEMPLATE",
    "SMS_GATEWAY_URL",
    "SMS_TOKEN",
    "SMS_SENDER",
    "WHATSAPP_WEBHOOK_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "SMS_WEBHOOK_SECRET",
)
