"""An annotator's progress: labels done, done today, and their share of the corpus."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.utils import timezone

from annotate.models import Sentence, Target
from annotate.queue import sql
from annotate.roles import ANNOTATOR


@dataclass(frozen=True)
class Progress:
    done: int
    assigned: int
    today: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.assigned)) if self.assigned else 100


#: Below this many sentence ids the corpus is counted exactly (a cheap count).
EXACT_COUNT_BELOW = 20_000


def corpus_size() -> int:
    """The number of sentences, for the progress bar, in constant time.

    A count reads every row, so at a million sentences it would dominate the label round
    trip. Imports hand out sentence ids densely, so a large corpus's size is the span of
    its ids (two index lookups); only deleted articles leave gaps, which make the share in
    the progress bar slightly generous. Small corpora are counted exactly.
    """
    bounds = sentence_id_bounds()
    if bounds is None:
        return 0
    span = bounds[1] - bounds[0] + 1
    return Sentence.objects.count() if span < EXACT_COUNT_BELOW else span


def sentence_id_bounds() -> tuple[int, int] | None:
    """The lowest and highest sentence id, or None without sentences.

    Two index seeks: SQLite answers MIN and MAX in one query by scanning the table.
    """
    ids = Sentence.objects.values_list("id", flat=True)
    low = ids.order_by("id").first()
    high = None if low is None else ids.order_by("-id").first()
    if low is None or high is None:  # no sentences, or the last ones deleted in between
        return None
    return low, high


#: How long the progress bar's corpus size and annotator count may lag behind an import
#: or a new account. Both change rarely and are read on every label.
SHARE_INPUTS_SECONDS = 30
SHARE_INPUTS_KEY = "stance:progress:share-inputs"


def share_inputs() -> tuple[int, int]:
    """(sentences, active annotators), kept in Django's cache for SHARE_INPUTS_SECONDS: one
    process's with the local-memory default, every host's with REDIS_URL set."""
    key = SHARE_INPUTS_KEY
    cached = cache.get(key)
    if cached is None:
        annotators = get_user_model().objects.filter(groups__name=ANNOTATOR, is_active=True).count()
        cached = (corpus_size(), annotators)
        cache.set(key, cached, SHARE_INPUTS_SECONDS)
    return cached


def start_of_day() -> datetime.datetime:
    """Midnight today in the site's time zone: where "today" counts start."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def annotator_share(*, sentences: int, overlap: int, annotators: int) -> int:
    """One annotator's share of the corpus: the corpus times the overlap, spread evenly."""
    return min(sentences, math.ceil(sentences * overlap / max(1, annotators)))


#: The annotator's labels for the target (skips included) and those changed today, as two
#: select-list columns: `progress_for` reads them alone, the labelling card beside its
#: sentences (annotate/queue/card.py). "done" is the annotator's tally row (kept by triggers), not
#: a count: it costs the same at the millionth label as at the first. "today" counts the
#: day's labels on the (annotator, target, -updated_at) index.
PROGRESS_COUNTS_SQL = """
COALESCE((SELECT "done"."labels" + "done"."skips" FROM "annotate_annotatortally" "done"
 WHERE "done"."annotator_id" = %(annotator)s AND "done"."target_id" = %(target)s), 0) AS "done",
(SELECT COUNT(*) FROM "annotate_annotation" "today" WHERE "today"."annotator_id" = %(annotator)s
 AND "today"."target_id" = %(target)s AND "today"."updated_at" >= %(today)s) AS "today"
"""


PROGRESS_COUNTS = f"SELECT {PROGRESS_COUNTS_SQL}"


def progress_params(*, annotator: AbstractBaseUser, target: Target) -> dict[str, object]:
    return {"annotator": annotator.pk, "target": target.pk, "today": sql.moment(start_of_day())}


def progress_from(*, target: Target, done: int, today: int) -> Progress:
    """The annotator's counts against their share of the corpus."""
    sentences, annotators = share_inputs()
    share = annotator_share(sentences=sentences, overlap=target.overlap, annotators=annotators)
    return Progress(done=done, assigned=max(share, done), today=today)


def progress_for(*, annotator: AbstractBaseUser, target: Target) -> Progress:
    """Labels done (skips included) against the annotator's share of the corpus."""
    ((done, today),) = sql.fetch(PROGRESS_COUNTS, progress_params(annotator=annotator, target=target))
    return progress_from(target=target, done=done, today=today)
