"""Redirect notices (?ok= / ?err=) open only when this service sealed them."""

from types import SimpleNamespace

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from shared.pages import notice


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config["SETTINGS"] = SimpleNamespace(jwt_secret="current", previous_secrets=("old",))
    with app.app_context():
        yield app


def test_a_sealed_notice_opens_and_plain_text_does_not(app):
    assert notice.unseal(notice.seal("KA-E79Y-DF: ditolak")) == "KA-E79Y-DF: ditolak"
    for forged in ("Akun Anda dikunci, hubungi 0812-0000", "", None, "abc.def.ghi"):
        assert notice.unseal(forged) is None


def test_a_notice_sealed_with_another_key_or_altered_does_not_open(app):
    foreign = URLSafeTimedSerializer("someone-else", salt=notice.SALT).dumps("hubungi 0812")
    assert notice.unseal(foreign) is None
    sealed = notice.seal("KA-E79Y-DF")
    assert notice.unseal(sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB")) is None


def test_a_notice_sealed_before_a_key_rotation_still_opens(app):
    before = URLSafeTimedSerializer("old", salt=notice.SALT).dumps("KA-E79Y-DF")
    assert notice.unseal(before) == "KA-E79Y-DF"


def test_an_expired_notice_does_not_open(app, monkeypatch):
    sealed = notice.seal("KA-E79Y-DF")
    monkeypatch.setattr(notice, "MAX_AGE_SECONDS", -1)
    assert notice.unseal(sealed) is None
