from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x9!k2$production-like-secret-key-for-the-deploy-check-0123456789abcdefghij",
    "ALLOWED_HOSTS": "stance.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1",
    "STATIC_MANIFEST": "1",
}


def run_django(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_debug_the_app_refuses_to_start_without_a_secret_key():
    result = run_django(["check"], {"DEBUG": "0", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_with_debug_a_development_key_is_used():
    result = run_django(["check"], {"DEBUG": "1", "SECRET_KEY": ""})
    assert result.returncode == 0, result.stderr


def test_the_deploy_check_is_clean_with_production_settings():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_file_database_really_switches_to_wal(tmp_path):
    database = tmp_path / "wal.sqlite3"
    result = run_django(
        [
            "shell",
            "-c",
            "from django.db import connection; c = connection.cursor(); "
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])",
        ],
        {"DEBUG": "1", "SQLITE_PATH": str(database)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "wal"


PRINT_PG_OPTIONS = (
    "from django.conf import settings; o = settings.DATABASES['default'].get('OPTIONS', {}); "
    "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
)


def test_postgresql_prepares_statements_unless_told_not_to():
    url = {"DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/stance"}
    prepared = run_django(["shell", "-c", PRINT_PG_OPTIONS], url)
    assert prepared.stdout.split()[-2:] == ["True", "5"], prepared.stderr
    pooled = run_django(["shell", "-c", PRINT_PG_OPTIONS], {**url, "PG_PREPARED_STATEMENTS": "0"})
    assert pooled.stdout.split()[-2:] == ["None", "None"], pooled.stderr
