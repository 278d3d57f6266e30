"""tokens_cli keeps --unit and adds --area (issue 27): units become directory ids, an
area is a region code or national, a supervisor needs one of them."""

import pytest

from shared import tokens_cli
from shared.auth import Tokens

SECRET = "s" * 40


@pytest.fixture
def issue(monkeypatch, capsys):
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("KAWAL_ENV", "development")

    def run(*args):
        tokens_cli.main(["issue", "--subject", "sari", *args])
        token = capsys.readouterr().out.strip()
        return Tokens(SECRET, "kawal-aspirasi").verify(token)

    return run


def test_a_supervisor_token_carries_a_unit_or_an_area(issue):
    bound = issue("--role", "supervisor", "--unit", "Polsek Cikande")
    assert (bound.unit, bound.area) == ("polsek-360415", None)
    area = issue("--role", "supervisor", "--area", "36.04")
    assert (area.unit, area.area) == (None, "36.04")
    assert issue("--role", "supervisor", "--area", "nasional").area == "national"
    assert issue("--role", "admin", "--area", "national").area == "national"


@pytest.mark.parametrize(
    "args",
    [
        ("--role", "supervisor"),  # neither unit nor area
        ("--role", "supervisor", "--area", "99.99"),  # no such region
        ("--role", "supervisor", "--area", "36.04.15.2001"),  # a desa is no area
        ("--role", "admin", "--area", "36"),  # an admin's only area is national
        ("--role", "officer", "--unit", "Polsek Cikande", "--area", "36"),
    ],
)
def test_a_scope_that_is_no_scope_is_refused(issue, args):
    with pytest.raises(SystemExit) as exit_:
        issue(*args)
    assert exit_.value.code == 2
