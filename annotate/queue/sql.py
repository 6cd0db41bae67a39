"""Running the label loop's hand-written statements (statements.py) and reading their rows.

Statements take `%(name)s` parameters and run unchanged on SQLite and PostgreSQL. A row read
this way becomes a model instance through `instance`, which applies the ORM's converters.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)


def fetch(sql: str, params: Mapping[str, Any]) -> list[tuple]:
    """Run a statement; its rows (none for a statement without RETURNING)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def moment(value: datetime.datetime) -> object:
    """A datetime as the database stores it (SQLite: UTC text; PostgreSQL: timestamptz)."""
    return connection.ops.adapt_datetimefield_value(value)


def instance(model: type[M], names: Sequence[str], values: Sequence[object]) -> M:
    """A model instance from a raw row's values, converted as the ORM converts them.

    `Model.from_db` takes Python values; a raw cursor returns what the driver returns,
    which on SQLite is a naive datetime for a DateTimeField (Django makes it aware in a
    converter) and an integer for a BooleanField. The values of fields that have a
    backend or field converter go through them, as in the ORM's own queries. Which
    fields those are is worked out once per model and field list: this runs several
    times a label.
    """
    key = (connection.vendor, model, tuple(names))
    conversions = _CONVERSIONS.get(key)
    if conversions is None:
        conversions = _CONVERSIONS[key] = tuple(
            (i, _column(model, name), converters)
            for i, name in enumerate(names)
            if (converters := _converters(model, name))
        )
    if conversions:
        values = list(values)
        for i, column, converters in conversions:
            for convert in converters:
                values[i] = convert(values[i], column, connection)
    return model.from_db(connection.alias, list(names), values)


#: For each (vendor, model, field names): the positions whose values need converting, with
#: their column and converters.
_CONVERSIONS: dict[
    tuple[str, type[Model], tuple[str, ...]], tuple[tuple[int, Col, list[Callable[..., object]]], ...]
] = {}


def _column(model: type[Model], name: str) -> Col:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.cached_col


def _converters(model: type[Model], name: str) -> list[Callable[..., object]]:
    """The converters the ORM applies to this field's column, on this connection."""
    column = _column(model, name)
    return connection.ops.get_db_converters(column) + column.get_db_converters(connection)
