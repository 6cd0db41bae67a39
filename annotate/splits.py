"""Train, dev and test splits of an export: by whole article, 80/10/10, from a seed.

Articles are ranked by a hash of the seed and their id, so the same articles and seed always
give the same assignment and no article's sentences leak from train into test. The export's
split column, the dataset card's split sizes and the target summary's stored per-split
counts (for the default seed) all come from assign_splits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from annotate.models import STANCE_LABELS, Adjudication, Annotation, Label, Target

SPLITS = (("train", 0.8), ("dev", 0.1), ("test", 0.1))
DEFAULT_SEED = 13


class SeedError(ValueError):
    """A seed that is not a whole number of at most SEED_DIGITS ASCII digits."""


#: A seed is a whole number of at most this many ASCII digits, with an optional minus.
SEED_DIGITS = 18
SEED_LIMIT = 10**SEED_DIGITS - 1
_SEED = re.compile(rf"-?[0-9]{{1,{SEED_DIGITS}}}")


def parse_seed(value: str) -> int:
    """The seed in a query string (the browser's export and card, and the API's export).

    Only ASCII digits: int() also takes Arabic-Indic or fullwidth digits, and str.isdigit()
    lets through "²", which int() then refuses with a ValueError.
    """
    if _SEED.fullmatch(value) is None:
        raise SeedError(f"seed must be a whole number of at most {SEED_DIGITS} digits (0-9), not {value!r}.")
    return int(value)


def split_sizes(count: int) -> list[int]:
    """Articles per split: 80/10/10 by largest remainder, none empty from three articles on."""
    exact = [count * share for _, share in SPLITS]
    sizes = [int(value) for value in exact]
    by_remainder = sorted(range(len(SPLITS)), key=lambda i: exact[i] - sizes[i], reverse=True)
    for i in by_remainder[: count - sum(sizes)]:
        sizes[i] += 1
    if count >= len(SPLITS):
        for i in range(1, len(SPLITS)):
            if sizes[i] == 0:
                sizes[i], sizes[0] = 1, sizes[0] - 1
    return sizes


def assign_splits(article_ids: Iterable[int], *, seed: int = DEFAULT_SEED) -> dict[int, str]:
    """Each article's split: articles ranked by a hash of the seed and their id, cut 80/10/10.

    Whole articles go to one split, so no article's sentences leak from train into test.
    The same articles and seed always give the same assignment.
    """
    ranked = sorted(set(article_ids), key=lambda a: hashlib.sha256(f"{seed}:{a}".encode()).digest())
    splits: dict[int, str] = {}
    start = 0
    for (name, _), size in zip(SPLITS, split_sizes(len(ranked)), strict=True):
        splits.update(dict.fromkeys(ranked[start : start + size], name))
        start += size
    return splits


def exported_articles(*, target: Target) -> set[int]:
    """Articles with a stance label or an adjudication: the same set for both levels, so a
    gold and an annotations export with the same seed put every article in the same split."""
    labelled = (
        Annotation.objects.filter(target=target)
        .exclude(label=Label.SKIP)
        .values_list("sentence__article_id", flat=True)
        .distinct()
    )
    adjudicated = Adjudication.objects.filter(target=target).values_list("sentence__article_id", flat=True)
    return set(labelled.iterator(chunk_size=10_000)) | set(adjudicated)


def counts_by_split(
    *, ids: Sequence[int], counts: Sequence[Sequence[int]], seed: int = DEFAULT_SEED
) -> dict[str, list[int]]:
    """Each split's sum of its articles' label counts (`counts[i]` belongs to `ids[i]`, in
    STANCE_LABELS order): what an export with --split writes, per split and label."""
    splits = assign_splits(ids, seed=seed)
    totals = {name: [0] * len(STANCE_LABELS) for name, _ in SPLITS}
    for article_id, row in zip(ids, counts, strict=True):
        total = totals[splits[article_id]]
        for i, n in enumerate(row):
            total[i] += n
    return totals
