"""The dependency rules of STYLE.md, checked by scanning imports."""

import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _files(*parts: str) -> list[pathlib.Path]:
    return sorted(ROOT.joinpath(*parts).rglob("*.py"))


@pytest.mark.parametrize("service", ["intake_service", "followup_service"])
def test_domain_imports_only_stdlib_and_itself(service):
    allowed_third_party = {"holidays"}  # Indonesia's public holidays are domain data
    for path in _files(service, "domain"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert (
                top in STDLIB or top in allowed_third_party or name.startswith(f"{service}.domain")
            ), f"{path.relative_to(ROOT)} imports {name}"


def test_the_two_services_never_import_each_other():
    for a, b in [("intake_service", "followup_service"), ("followup_service", "intake_service")]:
        for path in _files(a):
            bad = {n for n in _imports(path) if n.split(".")[0] == b}
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_shared_code_imports_neither_service():
    for path in _files("shared"):
        bad = {n for n in _imports(path) if n.split(".")[0].endswith("_service")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_kafka_client_is_used_only_by_the_shared_adapters():
    allowed = {"eventstore", "health.py", "processes.py"}
    for service in ("intake_service", "followup_service", "shared"):
        for path in _files(service):
            if any(part in allowed for part in path.relative_to(ROOT).parts):
                continue
            bad = {n for n in _imports(path) if n.split(".")[0] == "kafka"}
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
