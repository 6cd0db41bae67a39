"""Train, dev and test splits of an export: leak-free and stratified, from a seed.

Pure Python (no Django), so grouped cross-validation reuses the units (cv_groups).

1. **Units.** Articles go to one split whole, and articles that share a duplicate group
   (a sentence and its reprint, exact or near-identical: annotate.duplicates) are joined
   into one unit (article_units, union-find), so no text is in two splits.
2. **Stratified group split** (assign_units), greedy: units from the largest (most gold
   labels) down, each to the split where it brings the label counts closest to 80/10/10 of
   every label (the least added squared shortfall, relative to each target count); ties go
   to the split with fewest units for its share, then by a hash of the seed and the unit.
   The seed decides among units of equal size and equally good places, so the same data
   and seed always give the same split. From three units on no split is left empty (the
   smallest unit of the fullest split moves). We chose this over scikit-learn's
   StratifiedGroupKFold: three unequal splits, not k equal folds, and no numpy here.
3. **Warnings** (split_warnings): a split with no row of a label the export has, or fewer
   than MIN_SPLIT_ROWS rows or MIN_SPLIT_SHARE of them, is named in the card, on stderr by
   `export_dataset` and on the dashboard beside the export.

The export's split column, the dataset card's split sizes and the target summary's stored
per-split counts (for the default seed) all come from article_splits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

from annotate.duplicates import UnionFind

SPLITS = (("train", 0.8), ("dev", 0.1), ("test", 0.1))
DEFAULT_SEED = 13
#: A split with fewer rows than this, or under this share of the rows, is warned about.
MIN_SPLIT_ROWS = 30
MIN_SPLIT_SHARE = 0.05


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


def _rank(seed: int, item: object) -> bytes:
    return hashlib.sha256(f"{seed}:{item}".encode()).digest()


def article_units(*, article_ids: Iterable[int], links: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each article's unit: the smallest article id among those joined to it by a shared
    duplicate group. `links` are (article, group) pairs (annotate.duplicate_groups.article_links)."""
    sets = UnionFind()
    for article in article_ids:
        sets.find(article)
    first_of: dict[int, int] = {}
    for article, group in links:
        if article not in sets.parent:
            continue
        if group in first_of:
            sets.union(first_of[group], article)
        else:
            first_of[group] = article
    return {article: sets.find(article) for article in sets.parent}


def assign_units(counts: Mapping[int, Sequence[int]], *, seed: int = DEFAULT_SEED) -> dict[int, str]:
    """Each unit's split: the greedy stratified group split of the module docstring.
    `counts[unit]` are its label counts (the same labels, in the same order, for all)."""
    names = [name for name, _ in SPLITS]
    shares = [share for _, share in SPLITS]
    width = max((len(row) for row in counts.values()), default=0)
    totals = [sum(row[c] for row in counts.values()) for c in range(width)]
    wanted = [[share * total for total in totals] for share in shares]
    have = [[0.0] * width for _ in names]
    members = [0] * len(names)
    order = sorted(counts, key=lambda unit: (-sum(counts[unit]), _rank(seed, unit)))
    placed: dict[int, int] = {}
    for unit in order:
        row = counts[unit]

        def cost(s: int, row: Sequence[int] = row, unit: int = unit) -> tuple[float, float, bytes]:
            added = sum(
                n * (2 * (have[s][c] - wanted[s][c]) + n) / max(wanted[s][c], 1.0)
                for c, n in enumerate(row)
                if n
            )
            return added, members[s] / shares[s], _rank(seed, (unit, s))

        best = min(range(len(names)), key=cost)
        placed[unit] = best
        members[best] += 1
        for c, n in enumerate(row):
            have[best][c] += n
    if len(order) >= len(names):
        for empty in range(len(names)):
            if members[empty]:
                continue
            fullest = max(range(len(names)), key=lambda s: members[s])
            smallest = min(
                (unit for unit in order if placed[unit] == fullest),
                key=lambda unit: (sum(counts[unit]), _rank(seed, unit)),
            )
            placed[smallest] = empty
            members[fullest] -= 1
            members[empty] += 1
    return {unit: names[s] for unit, s in placed.items()}


def article_splits(
    *,
    ids: Sequence[int],
    strata: Sequence[Sequence[int]],
    units: Sequence[int] | None = None,
    seed: int = DEFAULT_SEED,
) -> dict[int, str]:
    """Each article's split. `strata[i]` are article `ids[i]`'s gold label counts (what is
    balanced), `units[i]` its unit (article_units; its own id without one)."""
    units = list(ids) if units is None else list(units)
    per_unit: dict[int, list[int]] = {}
    for unit, row in zip(units, strata, strict=True):
        total = per_unit.setdefault(unit, [0] * len(row))
        for c, n in enumerate(row):
            total[c] += n
    by_unit = assign_units(per_unit, seed=seed)
    return {article: by_unit[unit] for article, unit in zip(ids, units, strict=True)}


def counts_by_split(
    *,
    ids: Sequence[int],
    counts: Sequence[Sequence[int]],
    strata: Sequence[Sequence[int]] | None = None,
    units: Sequence[int] | None = None,
    seed: int = DEFAULT_SEED,
    width: int | None = None,
) -> dict[str, list[int]]:
    """Each split's sum of its articles' label counts (`counts[i]` belongs to `ids[i]`, in
    label order): what an export with --split writes, per split and label. The split is
    article_splits' over `strata` (the gold counts; `counts` themselves without them).
    `width` is the number of labels (each split's list is that long even with no article)."""
    splits = article_splits(ids=ids, strata=counts if strata is None else strata, units=units, seed=seed)
    if width is None:
        width = len(counts[0]) if counts else 0
    totals = {name: [0] * width for name, _ in SPLITS}
    for article_id, row in zip(ids, counts, strict=True):
        total = totals[splits[article_id]]
        for i, n in enumerate(row):
            total[i] += n
    return totals


def split_warnings(by_split: Mapping[str, Mapping[str, int]], *, labels: Sequence[str]) -> list[str]:
    """What is wrong with a split export's splits (label counts per split): a split with no
    row of a label the export has, or under MIN_SPLIT_ROWS rows or MIN_SPLIT_SHARE of them."""
    present = [label for label in labels if any(split.get(label, 0) for split in by_split.values())]
    rows = sum(sum(split.values()) for split in by_split.values())
    warnings: list[str] = []
    for name, _ in SPLITS:
        split = by_split.get(name, {})
        size = sum(split.values())
        missing = [label for label in present if not split.get(label, 0)]
        if missing:
            warnings.append(f"The {name} split has no {' or '.join(missing)} row.")
        if rows and (size < MIN_SPLIT_ROWS or size < MIN_SPLIT_SHARE * rows):
            warnings.append(
                f"The {name} split has {size:,} rows ({size / rows:.0%}), under the minimum of "
                f"{MIN_SPLIT_ROWS} rows and {MIN_SPLIT_SHARE:.0%} of the {rows:,}."
            )
    return warnings


def cv_groups(*, article_ids: Sequence[int], duplicate_groups: Sequence[int | None]) -> list[int]:
    """One group per sentence for grouped cross-validation (StratifiedGroupKFold's `groups`):
    the connected component of "same article" and "same duplicate group" (Sentence.
    duplicate_group; None for a sentence without copies), by article_units, as the splits
    join articles. So no sentence's near-copy and no article's sentence sits in its own
    validation fold. A group is named by its smallest article id, whatever the order given."""
    if len(duplicate_groups) != len(article_ids):
        raise ValueError("article_ids and duplicate_groups differ in length")
    links = [
        (article, group)
        for article, group in zip(article_ids, duplicate_groups, strict=True)
        if group is not None
    ]
    units = article_units(article_ids=article_ids, links=links)
    return [units[article] for article in article_ids]
