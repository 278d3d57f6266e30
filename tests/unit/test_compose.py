"""docker-compose.yml agrees with the code: images, commands, env vars, ports, dependencies.

No Docker engine runs here, so this is how the compose file stays honest.
"""

import dataclasses
import importlib
import pathlib
import re
import shlex

import pytest
import yaml

from followup_service.notifications.settings import ENV_NAMES as NOTIFY_ENV_NAMES
from shared.config import Settings
from shared.photos.store import ENV_NAMES as PHOTO_ENV_NAMES

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {n: s for n, s in SERVICES.items() if "build" in s}
CLI_MODULES = {"intake_service.cli", "followup_service.cli"}


def _env_names_the_code_reads() -> set[str]:
    names = set()
    for f in dataclasses.fields(Settings):
        names.add(f.name.upper())
        names.update(f"{svc}_{f.name.upper()}" for svc in ("INTAKE", "FOLLOWUP"))
    for name in (*NOTIFY_ENV_NAMES, *PHOTO_ENV_NAMES):  # the notifier's, the photo store's
        names.update((name, f"FOLLOWUP_{name}", f"INTAKE_{name}"))
    return names


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_every_service_has_an_image_or_a_build_that_exists():
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            dockerfile = ROOT / service["build"]["context"] / service["build"]["dockerfile"]
            assert dockerfile.is_file(), name


def test_dockerfile_copies_only_paths_that_exist():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for src in shlex.split(line)[1:-1]:
                assert (ROOT / src).exists(), src


def test_app_environment_uses_only_variables_the_settings_read():
    known = _env_names_the_code_reads()
    for name, service in APP_SERVICES.items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name}: {unknown}"


def test_app_environment_points_at_services_defined_here():
    for name, service in APP_SERVICES.items():
        env = service["environment"]
        host, port = env["KAFKA_BOOTSTRAP_SERVERS"].split(":")
        assert host in SERVICES and port == "9092", name
        assert re.match(r"redis://redis:6379/", env["REDIS_URL"]), name
        for key in ("INTAKE_DATABASE_URL", "FOLLOWUP_DATABASE_URL"):
            database = env[key].rsplit("/", 1)[1]
            init_sql = (ROOT / "deploy" / "postgres" / "init-databases.sql").read_text()
            assert f"CREATE DATABASE {database};" in init_sql, key
            assert "@postgres:5432/" in env[key]


def test_every_dependency_names_a_defined_service():
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} -> {dependency}"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_command_runs_a_real_cli_subcommand_or_app_factory(name, capsys):
    command = _command(APP_SERVICES[name])
    for module, sub in re.findall(r"python -m (\S+) (\w[\w-]*)", command):
        assert module in CLI_MODULES
        with pytest.raises(SystemExit) as exited:
            importlib.import_module(module).main([sub, "--help"])
        assert exited.value.code == 0, f"{module} has no subcommand {sub}"
    for module, factory in re.findall(r"'(\w+\.app):(\w+)\(\)'", command):
        assert callable(getattr(importlib.import_module(module), factory))


def test_published_ports_match_the_ports_gunicorn_binds():
    for name, service in APP_SERVICES.items():
        bound = re.findall(r"-b 0\.0\.0\.0:(\d+)", _command(service))
        published = [p.split(":")[1] for p in service.get("ports", [])]
        assert bound == published, name


def test_kafka_image_matches_the_broker_version_the_scripts_run():
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([\d.]+)</kafka.version>", pom).group(1)
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{version}"


# Services that run once and exit (a migration job, say) would be listed here; every
# other service is long-running and must come back when it exits.
ONE_SHOT: set[str] = set()
RESTART_POLICIES = ("unless-stopped", "on-failure")


def test_every_long_running_service_has_a_restart_policy():
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
            continue
        policy = str(service.get("restart", "no"))
        assert policy.split(":")[0] in RESTART_POLICIES, f"{name}: restart: {policy}"


def test_operations_guide_names_the_restart_policy_compose_uses():
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    assert "## Processes that die" in operations
    for policy in {str(s["restart"]) for s in SERVICES.values() if "restart" in s}:
        assert f"restart: {policy}" in operations, policy
