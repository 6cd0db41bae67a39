"""Duplicate groups in the database: Sentence.text_key and Sentence.duplicate_group.

- At import (sentences_create, in the import's batches): each new sentence gets the hash
  of its normalised text (text_key) and the group of a stored sentence with the same key,
  or its own id. One query a batch to look the keys up, one to set the new groups.
- The near-identical copies (annotate.duplicates.near_pairs) need the whole corpus: a scan
  (duplicates_refresh) recomputes every group and writes the rows that changed. It runs in
  `manage.py find_duplicates`, in the background summary task and before `export_dataset`
  splits; never in a web request. An unchanged corpus (same count and largest id as the
  last scan) is not scanned again; a scan that moved a group counts as a change of every
  target, so their summaries are stale by the usual rule.
- article_links: the (article, group) pairs of groups found in more than one article, which
  annotate.splits joins into units that go to one split whole.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from annotate.duplicates import NEAR_THRESHOLD, sentence_groups, text_key
from annotate.models import DuplicateScan, Sentence, TargetChanges
from annotate.splits import article_units

#: Rows a transaction when a scan writes changed groups.
WRITE_BATCH = 5000


def sentences_create(sentences: Sequence[Sentence], *, batch_size: int | None = None) -> list[Sentence]:
    """bulk_create the sentences with their text_key and exact duplicate group. Call inside
    the transaction that stores them."""
    keys: set[int] = set()
    for sentence in sentences:
        key = text_key(sentence.text)
        sentence.text_key = key
        keys.add(key)
    stored: dict[int, int] = {}
    for found, group in (
        Sentence.objects.filter(text_key__in=keys, duplicate_group__isnull=False)
        .order_by()
        .values_list("text_key", "duplicate_group")
    ):
        if found is not None and group is not None:
            stored[found] = min(group, stored.get(found, group))
    for sentence in sentences:
        sentence.duplicate_group = stored.get(sentence.text_key or 0)
    created = Sentence.objects.bulk_create(sentences, batch_size=batch_size)
    # New groups: the smallest new id of each new key.
    first: dict[int, int] = {}
    for sentence in created:
        if sentence.duplicate_group is None and sentence.text_key is not None:
            first[sentence.text_key] = min(sentence.pk, first.get(sentence.text_key, sentence.pk))
    by_group: dict[int, list[int]] = defaultdict(list)
    for sentence in created:
        if sentence.duplicate_group is None and sentence.text_key is not None:
            sentence.duplicate_group = first[sentence.text_key]
            by_group[sentence.duplicate_group].append(sentence.pk)
    _write_groups(by_group)
    return created


def _write_groups(by_group: dict[int, list[int]]) -> None:
    """Set duplicate_group for sentences grouped by their new group: one UPDATE a group of
    two or more, and one for all the sentences that are their own group."""
    alone = [ids[0] for group, ids in by_group.items() if ids == [group]]
    for first in range(0, len(alone), WRITE_BATCH):
        with connection.cursor() as cursor:
            part = alone[first : first + WRITE_BATCH]
            cursor.execute(
                f"UPDATE annotate_sentence SET duplicate_group = id WHERE id IN ({', '.join(['%s'] * len(part))})",
                part,
            )
    for group, ids in by_group.items():
        if ids != [group]:
            Sentence.objects.filter(pk__in=ids).update(duplicate_group=group)


def backfill_exact(schema_connection: object, *, batch_size: int = 5000) -> None:
    """Set text_key and the exact groups of every stored sentence (migration 0016): keys a
    batch at a time in id order, then each group the smallest id of its key, in SQL."""
    db = schema_connection
    last = 0
    while True:
        with db.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                "SELECT id, text FROM annotate_sentence WHERE id > %s ORDER BY id LIMIT %s",
                [last, batch_size],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            cursor.executemany(
                "UPDATE annotate_sentence SET text_key = %s WHERE id = %s",
                [(text_key(text), sentence_id) for sentence_id, text in rows],
            )
        last = rows[-1][0]
    with db.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "UPDATE annotate_sentence SET duplicate_group = "
            "(SELECT MIN(other.id) FROM annotate_sentence other WHERE other.text_key = annotate_sentence.text_key)"
        )


@dataclass(frozen=True)
class ScanResult:
    """What a scan found: sentences, groups of two or more and the sentences in them, the
    largest group, the links (exact and near) that made them, rows changed, seconds."""

    sentences: int
    groups: int
    grouped_sentences: int
    largest_group: int
    exact_links: int
    near_links: int
    changed: int
    seconds: float
    threshold: float = NEAR_THRESHOLD


def _stored_rows(chunk: int = 20_000) -> Iterator[tuple[int, str, int | None, int | None]]:
    rows = Sentence.objects.order_by("id").values_list("id", "text", "text_key", "duplicate_group")
    yield from rows.iterator(chunk_size=chunk)


def duplicates_scan() -> ScanResult:
    """Recompute every sentence's group (exact and near) and write those that changed."""
    started = time.monotonic()
    count_and_last = Sentence.objects.aggregate(n=Count("id"), last=Max("id"))
    texts: list[tuple[int, str]] = []
    stored: dict[int, tuple[int | None, int | None]] = {}
    for sentence_id, text, key, group in _stored_rows():
        texts.append((sentence_id, text))
        stored[sentence_id] = (key, group)
    groups = sentence_groups(texts)
    changed = [
        (text_key(text), groups.group[sentence_id], sentence_id)
        for sentence_id, text in texts
        if stored[sentence_id][1] != groups.group[sentence_id] or stored[sentence_id][0] is None
    ]
    for first in range(0, len(changed), WRITE_BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE annotate_sentence SET text_key = %s, duplicate_group = %s WHERE id = %s",
                changed[first : first + WRITE_BATCH],
            )
    # A sentence given its own id as its group (its first scan) joins nothing: only a group
    # that joins or parts sentences moves a split.
    moved = any(
        stored[sentence_id][1] not in (group, None)
        or (group != sentence_id and stored[sentence_id][1] != group)
        for sentence_id, group in groups.group.items()
    )
    sizes = groups.duplicated
    result = ScanResult(
        sentences=len(texts),
        groups=len(sizes),
        grouped_sentences=sum(sizes.values()),
        largest_group=max(sizes.values(), default=1),
        exact_links=groups.exact_links,
        near_links=groups.near_links,
        changed=len(changed),
        seconds=round(time.monotonic() - started, 3),
    )
    with transaction.atomic():
        DuplicateScan.objects.all().delete()
        DuplicateScan.objects.create(
            finished_at=timezone.now(),
            sentences=count_and_last["n"],
            last_sentence=count_and_last["last"] or 0,
            seconds=result.seconds,
            figures=asdict(result),
        )
        if moved:
            # Moved groups move the splits every summary rests on: a change like a label's,
            # so each summary is stale by the one rule (summary.is_current). The change
            # counter is the last lock of the one lock order, and nothing else is held here.
            TargetChanges.objects.update(changes=F("changes") + 1)
    return result


def duplicates_refresh(*, force: bool = False) -> ScanResult | None:
    """Scan unless the corpus is as the last scan left it (same sentence count and largest
    id); the scan's result, or None when nothing needed scanning."""
    if not force:
        last = DuplicateScan.objects.order_by("-finished_at").first()
        now = Sentence.objects.aggregate(n=Count("id"), last=Max("id"))
        if last is not None and (last.sentences, last.last_sentence) == (now["n"], now["last"] or 0):
            return None
    return duplicates_scan()


def last_scan() -> ScanResult | None:
    """The last scan's figures (stored in the target summary, for the dataset card)."""
    figures = DuplicateScan.objects.order_by("-finished_at").values_list("figures", flat=True).first()
    return None if figures is None else ScanResult(**figures)


def article_links(*, article_ids: Collection[int]) -> list[tuple[int, int]]:
    """(article, group) for every duplicate group found in two or more of these articles:
    what joins articles into one unit of the split (annotate.splits.article_units)."""
    wanted = set(article_ids)
    shared = (
        Sentence.objects.filter(duplicate_group__isnull=False)
        .values("duplicate_group")
        .annotate(articles=Count("article_id", distinct=True))
        .filter(articles__gt=1)
        .values("duplicate_group")
    )
    rows = (
        Sentence.objects.filter(duplicate_group__in=shared)
        .order_by()
        .values_list("article_id", "duplicate_group")
        .distinct()
    )
    return [
        (article, group)
        for article, group in rows.iterator(chunk_size=10_000)
        if article in wanted and group is not None
    ]


def units_of(*, article_ids: Sequence[int]) -> list[int]:
    """Each article's unit of the split (annotate.splits.article_units), in the given order."""
    units = article_units(article_ids=article_ids, links=article_links(article_ids=article_ids))
    return [units[article] for article in article_ids]
