"""SQL written once, for the statements that run on every label.

The ORM builds a query anew each time it runs; for the labelling round trip that cost more
CPU than the database spent running the statements. Templates here name tables as
`{sentence}`, `{annotation}`, ... and take `%(name)s` parameters, and run unchanged on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TypeVar

from django.db import connection
from django.db.models import Model

from annotate.models import Annotation, Article, Assignment, QueueCursor, Sentence, Suggestion, Target

M = TypeVar("M", bound=Model)

TABLES = {
    "annotation": Annotation,
    "article": Article,
    "assignment": Assignment,
    "cursor": QueueCursor,
    "sentence": Sentence,
    "suggestion": Suggestion,
    "target": Target,
}


def table(name: str) -> str:
    """The quoted table name of one of TABLES."""
    return connection.ops.quote_name(TABLES[name]._meta.db_table)


def statement(template: str, **fragments: str) -> str:
    """The template with its `{table}` names filled in, and any other `{fragment}`."""
    return template.format(**{name: table(name) for name in TABLES}, **fragments)


def fetch(sql: str, params: Mapping[str, object]) -> list[tuple]:
    """Run a statement; its rows (none for a statement without RETURNING)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def moment(value: datetime.datetime) -> object:
    """A datetime as the database stores it (SQLite: UTC text; PostgreSQL: timestamptz)."""
    return connection.ops.adapt_datetimefield_value(value)


def instance(model: type[M], names: Sequence[str], values: Sequence[object]) -> M:
    """A model instance from a raw row's values, converted as the ORM converts them.

    `Model.from_db` takes values as Python values; a raw cursor returns what the driver
    returns, which on SQLite is a naive datetime for a DateTimeField (Django makes it
    aware in a converter). Each value goes through the backend's and the field's
    converters, as the ORM's own queries do.
    """
    converted = []
    for name, value in zip(names, values, strict=True):
        column = model._meta.get_field(name).cached_col
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, list(names), converted)
