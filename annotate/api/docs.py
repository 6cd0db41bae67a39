"""The API's OpenAPI documentation: written beside each view, applied when the schema is made.

drf-spectacular's `extend_schema` resolves the default schema class when it decorates, and
that imports its generator, which imports rest_framework.test, django.test and unittest:
about 4 MB in every web process, none of which serves a request. So the views carry their
`extend_schema` arguments as plain data (`documented`, `documented_view`), and
annotate.api.schema's preprocessing hook hands them to drf-spectacular when the schema is
generated (/api/schema/, `manage.py spectacular`), once a view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

#: The attribute a view method's extend_schema arguments are kept in, and a view class's
#: extend_schema_view arguments (method name -> extend_schema arguments).
METHOD_SCHEMA = "openapi_schema"
VIEW_SCHEMAS = "openapi_view_schemas"
_applied: set[type] = set()


def documented(**schema: Any) -> Callable[[T], T]:
    """`extend_schema(**schema)` for a view method (an @action too: put it above @action)."""

    def keep(method: T) -> T:
        setattr(method, METHOD_SCHEMA, schema)
        return method

    return keep


def documented_view(**methods: dict[str, Any]) -> Callable[[T], T]:
    """`extend_schema_view` for methods a view inherits (list, retrieve): a dict of
    extend_schema arguments a method name."""

    def keep(view: T) -> T:
        setattr(view, VIEW_SCHEMAS, methods)
        return view

    return keep


def documentation_apply(*, views: Iterable[type]) -> None:
    """Hands the kept arguments of these views (and the classes they derive from) to
    drf-spectacular; a view already done is left alone, so a second schema is the same."""
    from drf_spectacular.utils import extend_schema, extend_schema_view

    for view in views:
        for cls in reversed(view.__mro__):
            if cls in _applied:
                continue
            _applied.add(cls)
            for member in vars(cls).values():
                schema = getattr(member, METHOD_SCHEMA, None)
                if schema is not None and callable(member):
                    extend_schema(**schema)(member)
            methods = vars(cls).get(VIEW_SCHEMAS)
            if methods:
                extend_schema_view(**{name: extend_schema(**kwargs) for name, kwargs in methods.items()})(cls)
