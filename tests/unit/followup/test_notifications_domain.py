"""Notification texts, the visibility rule in them, quiet hours, backoff, the contact cipher."""

from datetime import UTC, datetime

import pytest

from followup_service.notifications.domain import (
    CaseFacts,
    Links,
    QuietHours,
    message_for,
    retry_delay,
)
from shared.contact_cipher import (
    DEVELOPMENT_CONTACT_KEY,
    ContactCipher,
    ContactKeyError,
    contact_key_from_env,
)

LINKS = Links(
    case="https://k.test/lacak/KA-AAAA-AA",
    unsubscribe="https://k.test/kabar/t/berhenti",
    confirm="https://k.test/kabar/t/selesai",
    dispute="https://k.test/kabar/t/bantah",
)
PUBLIC = CaseFacts("KA-AAAA-AA", False, "dishub-3604", "Dinas Perhubungan Kabupaten Serang")
SENSITIVE = CaseFacts("KA-AAAA-AA", True, "polsek-360415", "Polsek Cikande")
ROUTED = {"agency_id": "dishub-3604", "agency_name": "Dinas Perhubungan Kabupaten Serang"}


def test_routed_message_names_the_agency_with_code_and_link_when_public():
    message = message_for("CaseRouted", ROUTED, PUBLIC, "id", LINKS, "email")
    assert "diteruskan ke Dinas Perhubungan Kabupaten Serang" in message.body
    assert "KA-AAAA-AA" in message.subject and LINKS.case in message.body
    assert "Berhenti berlangganan: https://k.test/kabar/t/berhenti" in message.body


def test_message_is_in_english_when_the_subscriber_asked_for_english():
    message = message_for("CaseRouted", ROUTED, PUBLIC, "en", LINKS, "email")
    assert "forwarded to Dinas Perhubungan Kabupaten Serang" in message.body
    assert "Unsubscribe:" in message.body and "diteruskan" not in message.body


def test_sensitive_case_messages_carry_status_only_when_the_public_view_would():
    routed = {"agency_id": "polsek-360415", "agency_name": "Polsek Cikande"}
    assert "Kepolisian" in message_for("CaseRouted", routed, SENSITIVE, "id", LINKS, "sms").body
    note = {"text": "Pelaku di gang Melati", "public": True}
    body = message_for("ProgressNoted", note, SENSITIVE, "id", LINKS, "sms").body
    assert "Melati" not in body and "Cikande" not in body
    resolved = {"agency_id": "polsek-360415", "resolution": "Ditangkap di RT 03"}
    body = message_for("CaseResolved", resolved, SENSITIVE, "id", LINKS, "whatsapp").body
    assert "RT 03" not in body and "Cikande" not in body


def test_resolution_asks_to_confirm_or_dispute_with_links():
    resolved = {"agency_id": "dishub-3604", "resolution": "PJU diganti"}
    body = message_for("CaseResolved", resolved, PUBLIC, "id", LINKS, "email").body
    assert "PJU diganti" in body and LINKS.confirm in body and LINKS.dispute in body


def test_internal_note_is_not_told_when_it_is_not_public():
    assert (
        message_for("ProgressNoted", {"text": "x", "public": False}, PUBLIC, "id", LINKS, "email")
        is None
    )
    assert message_for("CaseAmended", {}, PUBLIC, "id", LINKS, "email") is None


def test_whatsapp_and_sms_say_stop_instead_of_a_link():
    body = message_for("CaseReopened", {}, PUBLIC, "id", LINKS, "whatsapp").body
    assert "Balas STOP" in body and "berhenti" not in body.split("Balas")[0]


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [("14:00", True), ("13:59", False), ("22:59", True), ("23:00", False), ("03:00", False)],
)
def test_quiet_hours_are_21_to_06_jakarta_when_configured_so(utc, quiet):
    hours = QuietHours.parse("21:00-06:00")
    h, m = map(int, utc.split(":"))
    assert hours.is_quiet(datetime(2026, 12, 6, h, m, tzinfo=UTC)) is quiet


def test_quiet_hours_end_at_six_jakarta_when_asked_during_them():
    hours = QuietHours.parse("21:00-06:00")
    end = hours.ends_after(datetime(2026, 12, 6, 15, 0, tzinfo=UTC))  # 22:00 WIB
    assert end.astimezone(UTC) == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert QuietHours.parse("off") is None


def test_retry_delay_grows_with_jitter_and_respects_retry_after():
    assert retry_delay(1, 2, 300, rand=lambda: 0.0) == 1.0
    assert retry_delay(3, 2, 300, rand=lambda: 1.0) == 8.0
    assert retry_delay(20, 2, 300, rand=lambda: 1.0) == 300
    assert retry_delay(1, 2, 300, retry_after=30, rand=lambda: 1.0) == 30


def test_contact_key_refused_when_development_key_used_outside_development():
    with pytest.raises(ContactKeyError):
        contact_key_from_env({})
    with pytest.raises(ContactKeyError):
        contact_key_from_env({"NOTIFY_CONTACT_KEY": DEVELOPMENT_CONTACT_KEY})
    assert contact_key_from_env({"KAWAL_ENV": "development"}) == DEVELOPMENT_CONTACT_KEY


def test_sealed_contact_opens_only_with_its_key_and_digests_ignore_spelling():
    cipher = ContactCipher(DEVELOPMENT_CONTACT_KEY)
    sealed = cipher.seal({"address": "warga@example.org"})
    assert "warga" not in sealed and cipher.open(sealed) == {"address": "warga@example.org"}
    other = ContactCipher("A" * 43 + "=")
    with pytest.raises(ValueError):
        other.open(sealed)
    assert cipher.digest("0812-3456-789") == cipher.digest("+62 812 3456 789")
    assert cipher.check_proof(cipher.proof()) and not other.check_proof(cipher.proof())
