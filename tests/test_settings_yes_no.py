"""Every yes/no variable refuses a value it does not know: a typo must stop the start, never
read as "off" (SECURE_COOKIES=ture must not send the session cookie over plain HTTP)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_settings import run_django

SETTINGS = Path(__file__).resolve().parent.parent / "stance" / "settings.py"

# Variables read only when another is set: what each needs to be read at all.
READ_WHEN = {
    "PG_PREPARED_STATEMENTS": {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"},
    "PG_JIT": {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"},
    "EMAIL_USE_TLS": {"EMAIL_HOST": "mail.example.org"},
}


def yes_no_variables() -> list[str]:
    """Every variable settings.py reads through env_bool, found in its source, so a new one
    is checked without being listed here."""
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    names = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "env_bool"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    return sorted(names)


def test_the_yes_no_variables_are_found_in_the_settings():
    assert {"DEBUG", "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "BEHIND_TLS_PROXY"} <= set(yes_no_variables())


@pytest.mark.parametrize("name", yes_no_variables())
@pytest.mark.parametrize("typo", ["ture", "yes please"])
def test_a_typo_in_any_yes_no_variable_stops_the_start(name, typo):
    result = run_django(["check"], {"DEBUG": "1", **READ_WHEN.get(name, {}), name: typo})
    assert result.returncode != 0
    assert (
        f"ImproperlyConfigured: {name} must be one of 1/0/true/false/yes/no/on/off, not {typo!r}."
        in result.stderr
    ), result.stderr
