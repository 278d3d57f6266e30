"""Language choice for pages: Bahasa Indonesia unless ``?lang=en`` or the ``lang`` cookie."""

from __future__ import annotations

from flask import g, request

from shared.pages.messages import MESSAGES

LANGS = ("id", "en")
DEFAULT_LANG = "id"
COOKIE = "lang"


def current_lang() -> str:
    if "lang" not in g:
        asked = request.args.get("lang") or request.cookies.get(COOKIE) or DEFAULT_LANG
        g.lang = asked if asked in LANGS else DEFAULT_LANG
    return g.lang


def translate(key: str, lang: str | None = None, **values) -> str:
    """The message for `key` in the page's language, formatted with `values`."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[LANGS.index(lang or current_lang())]
    return text.format(**values) if values else text


def pick(labels: dict | tuple | None, lang: str | None = None) -> str:
    """Choose from {"id": ..., "en": ...} or an (id, en) pair produced by the domain."""
    if not labels:
        return ""
    lang = lang or current_lang()
    if isinstance(labels, dict):
        return labels.get(lang) or labels.get(DEFAULT_LANG) or ""
    return labels[LANGS.index(lang)]


def remember_lang(response):
    """after_request: keep an explicit ``?lang=`` choice in a cookie for a year."""
    asked = request.args.get("lang")
    if asked in LANGS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax")
    return response
