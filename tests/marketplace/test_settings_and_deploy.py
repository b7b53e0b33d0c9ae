"""The production shape: settings from the environment, deploy checks, compose and Dockerfile."""

import importlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-real-production-secret-" + "k7Qz9" * 10,
    "ALLOWED_HOSTS": "shop.example.com",
    "DJANGO_SETTINGS_MODULE": "marketplace.settings",
}


def run_manage(*args, env_overrides, var_dir):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(env_overrides)
    env["MARKETPLACE_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides=PRODUCTION_ENV,
        var_dir=tmp_path,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "command", [["check"], ["makemigrations", "--check", "--dry-run"], ["migrate", "--plan"]]
)
def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path, command):
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""}

    result = run_manage(*command, env_overrides=env, var_dir=tmp_path)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_a_malformed_boolean_setting_is_a_clear_error(tmp_path):
    result = run_manage(
        "check", env_overrides={**PRODUCTION_ENV, "DJANGO_DEBUG": "maybe"}, var_dir=tmp_path
    )

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def compose_services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_runs_the_production_shape():
    assert set(compose_services()) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_each_compose_service_command_names_an_entry_point_that_exists(name):
    service = compose_services()[name]
    command = service["command"]
    argv = shlex.split(command) if isinstance(command, str) else command

    if argv[0] == "gunicorn":
        module_name, attribute = next(arg for arg in argv[1:] if ":" in arg).split(":")
        assert callable(getattr(importlib.import_module(module_name), attribute))
    else:
        assert argv[:2] == ["celery", "-A"]
        app = importlib.import_module(argv[2]).celery_app
        assert argv[3] in {"worker", "beat"}
        assert app.main == "marketplace"
    assert service["build"] == "."
    assert "DATABASE_URL" in service["environment"] and "REDIS_URL" in service["environment"]


def test_the_dockerfile_installs_the_pinned_requirements_and_collects_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    assert "python:3.11" in dockerfile


def test_every_requirement_is_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert "==" in line, line
