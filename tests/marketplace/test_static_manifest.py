"""With DJANGO_DEBUG off, pages link hashed static files listed in the manifest collectstatic
writes. A web server started without that manifest refuses to start with a clear message, instead
of answering 500 on every page; the commands that run before collectstatic (collectstatic itself,
migrate, check) and the development server with DEBUG on are unaffected."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from marketplace.apps import serves_web_requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MESSAGE = "python manage.py collectstatic"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "STATIC_", "STOREFRONT_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "static-manifest-test-" + "q" * 40,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MARKETPLACE_VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(tmp_path / "static"),
            # Set, not only removed: a developer's .env must not fill them in.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "",
            "STOREFRONT_PAGE_CACHE": "0",
        }
    )
    env.update(overrides)
    return env


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start(argv, env, port, *, deadline_seconds=40):
    """Start a server; return (process, None) once it answers /ping, or (process, output) when
    it exits first."""
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return process, process.stdout.read()
        try:
            if fetch(f"http://127.0.0.1:{port}/ping")[0] == 200:
                return process, None
        except OSError:
            pass
        time.sleep(0.3)
    stop(process)
    pytest.fail(f"{argv[0]} neither answered nor exited within {deadline_seconds} s")


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def runserver_argv(port):
    return [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]


def gunicorn_argv(port):
    return [
        str(BIN / "gunicorn"),
        "marketplace.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
    ]


@pytest.mark.parametrize("server", [runserver_argv, gunicorn_argv], ids=["runserver", "gunicorn"])
def test_a_web_server_without_the_manifest_refuses_to_start(tmp_path, server):
    port = free_port()

    process, output = start(server(port), production_env(tmp_path), port)

    try:
        assert output is not None, "the server started without a static files manifest"
        assert process.returncode != 0
        assert "ImproperlyConfigured" in output
        assert MESSAGE in output
        assert str(tmp_path / "static" / "staticfiles.json") in output
    finally:
        stop(process)


def test_collectstatic_and_migrate_run_without_the_manifest_then_the_server_starts(tmp_path):
    env = production_env(tmp_path)

    for args in [("migrate", "--plan"), ("check", "--deploy"), ("collectstatic", "--noinput")]:
        result = manage(*args, env=env)
        assert result.returncode == 0, (args, result.stdout + result.stderr)
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert manage("migrate", "--noinput", env=env).returncode == 0

    port = free_port()
    process, output = start(gunicorn_argv(port), env, port)
    try:
        assert output is None, output
        status, html = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "/static/marketplace/css/app." in html and ".css" in html
        assert "/static/marketplace/css/app.css" not in html  # the hashed name from the manifest
    finally:
        stop(process)


def test_the_development_server_with_debug_on_needs_no_manifest(tmp_path):
    port = free_port()
    env = production_env(tmp_path, DJANGO_DEBUG="1")

    process, output = start(runserver_argv(port), env, port)

    try:
        assert output is None, output
        assert fetch(f"http://127.0.0.1:{port}/ping") == (200, "ok")
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("argv", "serves"),
    [
        (["manage.py", "runserver"], True),
        (["/app/manage.py", "runserver", "0.0.0.0:8000"], True),
        (["/usr/local/bin/gunicorn", "marketplace.wsgi:application"], True),
        (["/venv/lib/python3.11/site-packages/gunicorn/__main__.py", "x.wsgi"], True),
        (["uvicorn", "marketplace.asgi:application"], True),
        (["manage.py", "collectstatic", "--noinput"], False),
        (["manage.py", "migrate"], False),
        (["manage.py", "check", "--deploy"], False),
        (["manage.py"], False),
        (["/usr/local/bin/celery", "-A", "marketplace", "worker"], False),
        (["/venv/bin/pytest", "tests"], False),
        ([], False),
    ],
)
def test_which_processes_serve_web_requests(argv, serves):
    assert serves_web_requests(argv) is serves


def test_the_image_collects_static_files_at_build_time_with_production_settings():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copy_all = lines.index("COPY . .")
    collect = next(i for i, line in enumerate(lines) if "collectstatic --noinput" in line)
    command = next(i for i, line in enumerate(lines) if line.startswith("CMD"))

    assert copy_all < collect < command
    assert "DJANGO_DEBUG=0" in lines[collect] and "DJANGO_SECRET_KEY=" in lines[collect]
    assert "staticfiles.json" in lines[collect + 1]
