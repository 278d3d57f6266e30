"""The routing report (issue 11, item 5) over a fixed sample from all 38 provinces."""

import pytest

from followup_service import cli
from followup_service import routing_report as report
from followup_service.domain.routing import RoutingRules
from followup_service.rules import DirectoryLocator
from shared.regions.dataset import load_directory

SEED_VILLAGES = [
    "36.04.15.2001",
    "32.75.04.1001",
    "32.12.09.2010",
    "31.73.04.1002",
    "31.71.06.1001",
]


def test_report_over_every_province_has_no_generic_route(capsys, monkeypatch):
    monkeypatch.setenv("KAWAL_ENV", "development")
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["routing-report", "--per-province", "3"])
    out = capsys.readouterr().out
    assert exit_status.value.code == 0, out
    assert out.splitlines()[-1] == (
        "1254 routes (114 kelurahan/desa in 38 provinces x 11 categories): 0 with problems"
    )
    assert "FAIL" not in out


def test_report_covers_the_seed_places(capsys, monkeypatch):
    monkeypatch.setenv("KAWAL_ENV", "development")
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["routing-report", "--codes", *SEED_VILLAGES])
    out = capsys.readouterr().out
    assert exit_status.value.code == 0, out
    assert (
        "31.71.06.1001 public_order           -> Satpol PP Kota Administrasi Jakarta Pusat" in out
    )


def test_report_fails_when_a_route_is_generic_or_unnamed():
    directory = load_directory()
    rules = RoutingRules.from_dict(
        {
            "version": "x",
            "agencies": {
                "satpolpp": "Satpol PP Kabupaten/Kota",
                "polsek-{kecamatan_code}": "{polsek}",
            },
            "categories": {
                "public_order": {"ladders": [["satpolpp"]]},
                "other": {"ladders": [["polsek-{kecamatan_code}"]]},
            },
        },
        locator=DirectoryLocator(directory),
    )
    routes = report.route_report(rules, directory, [directory.get("31.71.06.1001")])
    problems = {route.category: route.problems for route in routes}
    assert problems["other"] == ()
    assert problems["public_order"] == (
        "satpolpp: generic (named for no region)",
        "satpolpp: unnamed ('Satpol PP Kabupaten/Kota')",
        "satpolpp: id not scoped to the place's regions",
        "satpolpp: name mentions none of the place's regions",
    )
    assert "FAIL 31.71.06.1001 public_order" in report.format_report(routes)


def test_unknown_codes_are_refused(capsys, monkeypatch):
    monkeypatch.setenv("KAWAL_ENV", "development")
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["routing-report", "--codes", "99.99.99.9999"])
    assert exit_status.value.code == 2
