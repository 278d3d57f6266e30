"""Channels behind one interface: `send(address, outgoing)` or raise a ChannelError.

- EmailChannel: SMTP with smtplib (STARTTLS or implicit TLS and login configurable); one
  connection kept open between messages. Message-ID is derived from (event, subscriber),
  so a message sent again after a crash is recognisable as the same message.
- WhatsAppChannel: WhatsApp Business Cloud API, template messages:
  POST {WHATSAPP_API_URL}/{phone-number-id}/messages with a bearer token and
  {"messaging_product": "whatsapp", "to": ..., "type": "template", "template": {...}};
  errors come as {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.
  401 (code 190, bad token) and other 4xx are permanent; 429 (codes 4, 80007, 130429,
  131056) and 5xx (codes 1, 2, 131000) are retried.
- SmsChannel: a generic SMS HTTP gateway: POST {SMS_GATEWAY_URL} with a bearer token and
  {"to": "+62...", "from": sender, "text": ..., "reference": ...}; any 2xx is accepted;
  401/403/400/422 permanent, 429 (with Retry-After) and 5xx retried.

Errors never carry the address: only the class, the HTTP status and the provider's code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from followup_service.notifications.settings import NotifySettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    message_id: str  # stable per (event, subscriber)
    subject: str
    body: str
    language: str
    unsubscribe_url: str | None = None
    tracking_code: str = ""


class ChannelError(Exception):
    """A send that failed. retry: whether trying again later may work."""

    def __init__(self, reason: str, *, retry: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.retry_after = retry_after


class Channel:
    name = ""

    def send(self, address: str, outgoing: Outgoing) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class EmailChannel(Channel):
    name = "email"

    def __init__(self, settings: NotifySettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.smtp_ca_file or None)
        if s.smtp_ssl:
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_starttls:
                smtp.starttls(context=context)
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password)
        return smtp

    def send(self, address: str, outgoing: Outgoing) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = address
        message["Subject"] = outgoing.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{outgoing.message_id}@kawal-aspirasi>"
        message["Content-Language"] = outgoing.language
        if outgoing.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{outgoing.unsubscribe_url}>"
            # RFC 8058: mail clients may unsubscribe with one POST to that URL
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(outgoing.body)
        for attempt in (1, 2):  # a connection the server closed in between: reconnect once
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self._smtp = None
                if attempt == 2:
                    raise ChannelError("SMTPServerDisconnected", retry=True) from None
            except smtplib.SMTPRecipientsRefused as exc:
                codes = sorted({code for code, _ in exc.recipients.values()})
                raise ChannelError(f"SMTPRecipientsRefused {codes}", retry=codes[0] < 500) from None
            except smtplib.SMTPResponseException as exc:
                self.close()
                raise ChannelError(
                    f"{type(exc).__name__} {exc.smtp_code}", retry=exc.smtp_code < 500
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise ChannelError(type(exc).__name__, retry=True) from None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def _post_json(url: str, token: str, body: dict, timeout: float) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), _json(answer.read())
    except urllib.error.HTTPError as answer:
        return answer.code, dict(answer.headers), _json(answer.read())
    except (urllib.error.URLError, OSError) as exc:
        raise ChannelError(type(exc).__name__, retry=True) from None


def _json(raw: bytes) -> dict:
    try:
        data = json.loads(raw or b"{}")
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


def _retry_after(headers: dict) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _http_error(status: int, code, headers: dict) -> ChannelError:
    reason = f"HTTP {status}" + (f" code {code}" if code is not None else "")
    retry = status == 429 or status >= 500 or status == 408
    return ChannelError(reason, retry=retry, retry_after=_retry_after(headers) if retry else None)


class _PhoneChannel(Channel):
    """A channel that writes to a phone number over a provider's HTTP API."""

    def __init__(self, settings: NotifySettings):
        self.settings = settings

    @staticmethod
    def digits(address: str) -> str:
        """The number in international form without "+": 0812... is 62 812... (the same
        normalisation as the contact digest's, shared.contact_cipher.normalize_address)."""
        digits = "".join(ch for ch in address if ch.isdigit())
        return "62" + digits[1:] if digits.startswith("0") else digits


class WhatsAppChannel(_PhoneChannel):
    name = "whatsapp"

    def send(self, address: str, outgoing: Outgoing) -> None:
        s = self.settings
        digits = self.digits(address)
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digits,
            "type": "template",
            "template": {
                "name": s.whatsapp_template,
                "language": {"code": outgoing.language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": outgoing.tracking_code},
                            # template parameters may not hold newlines
                            {"type": "text", "text": " ".join(outgoing.body.split())[:1000]},
                        ],
                    }
                ],
            },
        }
        url = f"{s.whatsapp_api_url}/{s.whatsapp_phone_number_id}/messages"
        status, headers, answer = _post_json(url, s.whatsapp_token, body, s.http_timeout)
        if 200 <= status < 300 and answer.get("messages"):
            return
        code = (answer.get("error") or {}).get("code")
        if 200 <= status < 300:
            raise ChannelError(f"HTTP {status} without messages", retry=True)
        raise _http_error(status, code, headers)


class SmsChannel(_PhoneChannel):
    name = "sms"

    def send(self, address: str, outgoing: Outgoing) -> None:
        s = self.settings
        digits = self.digits(address)
        body = {
            "to": "+" + digits,
            "from": s.sms_sender,
            "text": outgoing.body,
            "reference": outgoing.message_id,
        }
        status, headers, answer = _post_json(s.sms_gateway_url, s.sms_token, body, s.http_timeout)
        if 200 <= status < 300:
            return
        code = (
            (answer.get("error") or {}).get("code")
            if isinstance(answer.get("error"), dict)
            else None
        )
        raise _http_error(status, code, headers)


def configured_channels(settings: NotifySettings) -> tuple[dict[str, Channel], list[str]]:
    """The channels this process can use, and a line for each one it cannot."""
    channels: dict[str, Channel] = {}
    skipped = []
    if settings.smtp_host:
        channels["email"] = EmailChannel(settings)
    else:
        skipped.append("email: SMTP_HOST not set")
    wa = settings.whatsapp_api_url and settings.whatsapp_token and settings.whatsapp_phone_number_id
    if wa:
        channels["whatsapp"] = WhatsAppChannel(settings)
    else:
        skipped.append(
            "whatsapp: WHATSAPP_API_URL, WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID not set"
        )
    if settings.sms_gateway_url and settings.sms_token:
        channels["sms"] = SmsChannel(settings)
    else:
        skipped.append("sms: SMS_GATEWAY_URL, SMS_TOKEN not set")
    return channels, skipped
