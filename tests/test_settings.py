from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from stance.settings import env_bool, env_choice, env_float, env_int

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


def test_a_misspelt_yes_no_value_stops_the_start_naming_the_variable():
    result = run_django(["check"], {"DEBUG": "1", "SECURE_COOKIES": "flase"})
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: SECURE_COOKIES must be one of 1/0/true/false/yes/no/on/off, not 'flase'."
        in result.stderr
    )


def test_a_number_that_is_not_one_stops_the_start_naming_the_variable():
    result = run_django(["check"], {"DEBUG": "1", "AXES_PROXY_COUNT": "one"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: AXES_PROXY_COUNT must be a whole number, not 'one'." in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", not expected) is expected


@pytest.mark.parametrize("value", ["flase", "2", "enabled", "y"])
def test_env_bool_refuses_any_other_value(monkeypatch, value):
    monkeypatch.setenv("SECURE_COOKIES", value)
    with pytest.raises(ImproperlyConfigured, match=f"^SECURE_COOKIES must be one of .*, not '{value}'"):
        env_bool("SECURE_COOKIES", True)


def test_env_helpers_give_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    monkeypatch.setenv("SOME_NUMBER", "")
    assert env_bool("SOME_FLAG", True) is True
    assert env_int("SOME_NUMBER", 7) == 7
    assert env_choice("SOME_NUMBER", "WARNING", ("INFO", "WARNING")) == "WARNING"


@pytest.mark.parametrize(
    ("value", "message"), [("5s", "a whole number, not '5s'"), ("-1", "at least 0, not -1")]
)
def test_env_int_refuses_what_is_not_a_count(monkeypatch, value, message):
    monkeypatch.setenv("SQLITE_TIMEOUT", value)
    with pytest.raises(ImproperlyConfigured, match=f"^SQLITE_TIMEOUT must be {message}"):
        env_int("SQLITE_TIMEOUT", 30)


@pytest.mark.parametrize("value", ["fast", "nan", "inf", "0", "-1"])
def test_env_float_refuses_what_is_not_a_positive_number(monkeypatch, value):
    monkeypatch.setenv("PG_RANDOM_PAGE_COST", value)
    with pytest.raises(ImproperlyConfigured, match=r"^PG_RANDOM_PAGE_COST must be a number"):
        env_float("PG_RANDOM_PAGE_COST", 1.1, minimum=0.01)


def test_env_float_reads_a_number(monkeypatch):
    monkeypatch.setenv("PG_RANDOM_PAGE_COST", " 2.5 ")
    assert env_float("PG_RANDOM_PAGE_COST", 1.1) == 2.5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("random_page_cost", "1.1"),  # random reads as cheap as on an SSD
        ("jit", "off"),  # JIT compiling a dashboard count at 1M labels took longer than running it
    ],
)
def test_postgresql_connections_run_with_the_planner_settings_of_the_environment(setting, value):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {setting}")
        assert cursor.fetchone()[0] == value


def test_env_choice_refuses_an_unknown_word(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(
        ImproperlyConfigured, match=r"^LOG_LEVEL must be one of DEBUG/INFO/WARNING, not 'loud'"
    ):
        env_choice("LOG_LEVEL", "WARNING", ("DEBUG", "INFO", "WARNING"))
    monkeypatch.setenv("LOG_LEVEL", "info")
    assert env_choice("LOG_LEVEL", "WARNING", ("DEBUG", "INFO", "WARNING")) == "INFO"


PRINT_IPWARE = (
    "from django.conf import settings as s; "
    "print(s.AXES_IPWARE_PROXY_COUNT, s.AXES_IPWARE_META_PRECEDENCE_ORDER, getattr(s, 'IPWARE_STRICT', None))"
)


def test_behind_a_proxy_the_login_lockout_reads_the_client_address_from_x_forwarded_for():
    direct = run_django(["shell", "-c", PRINT_IPWARE], {"DEBUG": "1"})
    assert direct.stdout.strip().splitlines()[-1] == "None ('REMOTE_ADDR',) None", direct.stderr
    proxied = run_django(["shell", "-c", PRINT_IPWARE], {"DEBUG": "1", "AXES_PROXY_COUNT": "1"})
    assert proxied.stdout.strip().splitlines()[-1] == "0 ('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR') False"
