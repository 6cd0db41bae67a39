"""An annotator's own labels for one target: filtered, searched and paged by a keyset cursor.

The page reads the annotator's annotations newest first by (updated_at, id), the order of
the `annotation_recent` index (annotator, target, -updated_at), and pages by a cursor on
that pair rather than an OFFSET: a page costs the same wherever it is, and a row is never
shown twice or missed when several labels share a timestamp. Changing a label is the
history panel's service (annotate.queue.record.annotation_change); this module only reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from annotate.models import Annotation, Target

PAGE_SIZE = 50
#: A cursor: the row's updated_at in microseconds since the epoch, a dash, its id.
_CURSOR = re.compile(r"\A([0-9]{1,18})-([0-9]{1,18})\Z")


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


@dataclass(frozen=True)
class Cursor:
    """A place in the annotator's list: the row at (updated_at, id)."""

    updated_at: datetime
    id: int

    def token(self) -> str:
        micros = (self.updated_at - _epoch()) // timedelta(microseconds=1)
        return f"{micros}-{self.id}"

    @classmethod
    def of(cls, annotation: Annotation) -> Cursor:
        return cls(updated_at=annotation.updated_at, id=annotation.pk)

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor a page handed out; ValidationError for anything else."""
        match = _CURSOR.match(token)
        if match is None:
            raise ValidationError("Not a cursor this page handed out: follow its Newer or Older links.")
        micros, pk = int(match[1]), int(match[2])
        try:
            when = _epoch() + timedelta(microseconds=micros)
        except OverflowError as too_far:
            raise ValidationError("Not a cursor this page handed out.") from too_far
        return cls(updated_at=when, id=pk)


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; empty values narrow nothing."""

    text: str = ""
    label: str = ""  # pro, contra, neutral or skip
    since: date | None = None  # updated on or after this day
    until: date | None = None  # updated on or before this day


@dataclass(frozen=True)
class MyLabelsPage:
    rows: list[Annotation]
    newer: Cursor | None  # the first row's cursor, when newer rows match
    older: Cursor | None  # the last row's cursor, when older rows match


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def matching(*, annotator: User, target: Target, filters: Filters) -> QuerySet[Annotation]:
    """The annotator's annotations for the target that pass the filters, unordered.

    The date bounds are ranges on updated_at (not a __date lookup), so the index on
    (annotator, target, -updated_at) serves them; the text search is a case-insensitive
    substring of the sentence, tested on the annotator's rows for the target only.
    """
    rows = Annotation.objects.filter(annotator_id=annotator.pk, target_id=target.pk)
    if filters.label:
        rows = rows.filter(label=filters.label)
    if filters.since is not None:
        rows = rows.filter(updated_at__gte=_day_start(filters.since))
    if filters.until is not None:
        rows = rows.filter(updated_at__lt=_day_start(filters.until + timedelta(days=1)))
    if filters.text:
        rows = rows.filter(sentence__text__icontains=filters.text)
    return rows


def my_labels_page(
    *,
    annotator: User,
    target: Target,
    filters: Filters,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    size: int | None = None,
) -> MyLabelsPage:
    """One page of the annotator's labels, newest first: the first page, the page after
    `older_than` (the rows older than it) or the page before `newer_than`. One query (two
    when Newer reaches the first page, which is then shown whole). `size`: PAGE_SIZE."""
    size = PAGE_SIZE if size is None else size
    rows = matching(annotator=annotator, target=target, filters=filters).select_related(
        "sentence", "sentence__article"
    )
    rows = rows.only(
        "id",
        "label",
        "updated_at",
        "target_id",
        "sentence_id",
        "sentence__text",
        "sentence__position",
        "sentence__article_id",
        "sentence__article__title",
    )
    if newer_than is not None:
        after = Q(updated_at__gt=newer_than.updated_at) | Q(
            updated_at=newer_than.updated_at, id__gt=newer_than.id
        )
        found = list(rows.filter(after).order_by("updated_at", "id")[: size + 1])
        if len(found) > size:
            page = found[:size][::-1]
            return MyLabelsPage(rows=page, newer=Cursor.of(page[0]), older=Cursor.of(page[-1]))
        # Nothing newer beyond this page: it is the first page, shown whole (a second query).
    if older_than is not None:
        rows = rows.filter(
            Q(updated_at__lt=older_than.updated_at)
            | Q(updated_at=older_than.updated_at, id__lt=older_than.id)
        )
    found = list(rows.order_by("-updated_at", "-id")[: size + 1])
    more = len(found) > size
    page = found[:size]
    return MyLabelsPage(
        rows=page,
        newer=Cursor.of(page[0]) if page and older_than is not None else None,
        older=Cursor.of(page[-1]) if page and more else None,
    )
