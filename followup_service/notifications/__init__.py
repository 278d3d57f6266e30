"""Residents hear back without asking (issue 24): opt-in messages when their case moves.

    domain.py     what a subscriber is told for each case event (pure): texts in Bahasa
                  Indonesia and English, the public visibility rule, quiet hours, backoff
    settings.py   NOTIFY_* / SMTP_* / WHATSAPP_* / SMS_* environment variables
    tables.py     the private contact store, pending confirmations, the notification outbox
    store.py      SQL over those tables (subscriptions, outbox claims, erasure)
    intake_client.py   takes a reporter's sealed `notify` request from intake (no Kafka)
    notifier.py   the consumer of followup.case-events: outbox rows in the poll's transaction
    sender.py     delivers the outbox through the channels; retries, dead letters, metrics
    channels.py   email (SMTP), WhatsApp Business Cloud API, a generic SMS HTTP gateway
    pages.py      unsubscribe, confirm/dispute links, subscribe on /lacak with a one-time code
    inbound.py    what comes back without a CSRF token: RFC 8058 one-click unsubscribe, and
                  STOP from the WhatsApp Cloud API webhook and the SMS gateway (signed)
    smtp_sink.py  run.sh's local SMTP server writing each message under .local/mail/

Contacts are sealed with Fernet (shared/contact_cipher.py) wherever they are stored, are
never in an event, a Kafka record, a log line, a metric label or a public answer, and are
erased NOTIFY_RETENTION_DAYS (30) after their case closes.
"""
