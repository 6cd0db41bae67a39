"""The split rules of annotate/splits.py, on plain numbers (no database)."""

from __future__ import annotations

import random

import pytest

from annotate.splits import (
    MIN_SPLIT_ROWS,
    SPLITS,
    article_splits,
    article_units,
    assign_units,
    counts_by_split,
    cv_groups,
    split_warnings,
)

LABELS = ("pro", "contra", "neutral")


def _skewed(n: int, seed: int = 0) -> dict[int, list[int]]:
    """Units of 1 to 30 labels, most pro, a few contra, neutral rare."""
    rng = random.Random(seed)
    units = {}
    for unit in range(1, n + 1):
        size = rng.randint(1, 30)
        row = [0, 0, 0]
        for _ in range(size):
            row[rng.choices(range(3), weights=[70, 25, 5])[0]] += 1
        units[unit] = row
    return units


def _imbalance(counts: dict[int, list[int]], splits: dict[int, str]) -> float:
    """Summed relative error of every split's label counts against 80/10/10 of each label."""
    totals = [sum(row[c] for row in counts.values()) for c in range(3)]
    error = 0.0
    for name, share in SPLITS:
        have = [sum(counts[u][c] for u in counts if splits[u] == name) for c in range(3)]
        error += sum(abs(h - share * t) / (share * t) for h, t in zip(have, totals, strict=True))
    return error


def _unstratified(units: list[int], seed: int) -> dict[int, str]:
    """The split before this one: units in a seeded random order, cut 80/10/10 by count."""
    order = sorted(units, key=lambda u: random.Random(f"{seed}:{u}").random())
    cut1, cut2 = round(len(order) * 0.8), round(len(order) * 0.9)
    return {u: "train" if i < cut1 else "dev" if i < cut2 else "test" for i, u in enumerate(order)}


def test_the_split_balances_labels_better_than_an_unstratified_one_on_a_skewed_corpus():
    counts = _skewed(200)
    for seed in range(5):
        stratified = _imbalance(counts, assign_units(counts, seed=seed))
        assert stratified < _imbalance(counts, _unstratified(list(counts), seed)) / 3


def test_the_split_is_deterministic_for_a_seed_and_changes_with_it():
    counts = _skewed(200)
    shuffled = dict(reversed(list(counts.items())))
    assert assign_units(counts, seed=13) == assign_units(shuffled, seed=13)
    assert assign_units(counts, seed=13) != assign_units(counts, seed=14)


def test_the_splits_hold_about_80_10_10_of_the_labels():
    counts = _skewed(300)
    splits = assign_units(counts, seed=13)
    total = sum(map(sum, counts.values()))
    for name, share in SPLITS:
        mine = sum(sum(row) for unit, row in counts.items() if splits[unit] == name)
        assert abs(mine / total - share) < 0.02


def test_no_split_is_empty_from_three_units_on():
    counts = {1: [50, 0, 0], 2: [1, 0, 0], 3: [1, 0, 0]}
    assert set(assign_units(counts, seed=1).values()) == {"train", "dev", "test"}


def test_articles_sharing_a_duplicate_group_are_one_unit_and_in_one_split():
    # 1-2 share group 100, 2-3 share group 200: one unit of three articles; 4 alone.
    units = article_units(article_ids=[1, 2, 3, 4], links=[(1, 100), (2, 100), (2, 200), (3, 200), (9, 200)])
    assert units == {1: 1, 2: 1, 3: 1, 4: 4}
    for seed in range(30):
        ids = list(range(1, 41))
        strata = [[i % 5, 1, 0] for i in ids]
        links = [(a, 1000 + a // 4) for a in ids]  # articles joined four by four
        unit_of = article_units(article_ids=ids, links=links)
        splits = article_splits(ids=ids, strata=strata, units=[unit_of[a] for a in ids], seed=seed)
        for a in ids:
            assert splits[a] == splits[unit_of[a]]


def test_counts_by_split_add_up_each_splits_articles():
    ids = list(range(1, 31))
    counts = [[i, 2 * i, 1] for i in ids]
    splits = article_splits(ids=ids, strata=counts, seed=13)

    by_split = counts_by_split(ids=ids, counts=counts, seed=13)

    for name in ("train", "dev", "test"):
        mine = [row for article, row in zip(ids, counts, strict=True) if splits[article] == name]
        assert by_split[name] == [sum(column) for column in zip(*mine, strict=True)]


def test_a_split_without_a_class_is_warned_about():
    by_split = {
        "train": {"pro": 400, "contra": 300, "neutral": 100},
        "dev": {"pro": 50, "contra": 40, "neutral": 10},
        "test": {"pro": 60, "contra": 0, "neutral": 40},
    }
    assert split_warnings(by_split, labels=LABELS) == ["The test split has no contra row."]
    by_split["test"]["contra"] = 1
    assert split_warnings(by_split, labels=LABELS) == []


def test_a_label_no_split_has_is_not_warned_about():
    by_split = {name: {"pro": 80 if name == "train" else 40, "contra": 40} for name, _ in SPLITS}
    assert split_warnings(by_split, labels=LABELS) == []


def test_a_split_under_the_minimum_size_is_warned_about():
    by_split = {
        "train": {"pro": 600, "contra": 300},
        "dev": {"pro": MIN_SPLIT_ROWS - 2, "contra": 1},
        "test": {"pro": 60, "contra": 40},
    }
    (warning,) = split_warnings(by_split, labels=LABELS)
    assert warning.startswith(f"The dev split has {MIN_SPLIT_ROWS - 1} rows")
    by_split["dev"]["contra"] = 2
    by_split["dev"]["pro"] = 70  # 72 rows of 1,072: over 30 rows and 5 %
    assert split_warnings(by_split, labels=LABELS) == []
    by_split["dev"]["pro"] = 40  # 42 rows of 1,042: 4 %, under the share
    assert "4%" in split_warnings(by_split, labels=LABELS)[0]


def test_sentences_of_one_article_share_a_cross_validation_group_named_by_the_article():
    assert cv_groups(article_ids=[7, 7, 3, 9, 3], duplicate_groups=[None] * 5) == [7, 7, 3, 9, 3]


def test_a_duplicate_group_joins_the_articles_it_spans_and_everything_they_join():
    # Article 5 reprints a sentence of 2; article 8 reprints another of 5: all one group.
    articles = [2, 2, 5, 5, 8, 9]
    duplicates = [None, 40, 40, 41, 41, None]

    assert cv_groups(article_ids=articles, duplicate_groups=duplicates) == [2, 2, 2, 2, 2, 9]


def test_cross_validation_groups_are_the_splits_units_of_the_same_links():
    articles = [10, 10, 20, 30, 30, 40]
    duplicates = [1, None, 1, 4, 5, 5]
    links = [(a, g) for a, g in zip(articles, duplicates, strict=True) if g is not None]
    units = article_units(article_ids=articles, links=links)

    assert cv_groups(article_ids=articles, duplicate_groups=duplicates) == [units[a] for a in articles]
    assert cv_groups(article_ids=articles, duplicate_groups=duplicates) == [10, 10, 10, 30, 30, 30]


def test_cross_validation_group_names_do_not_depend_on_the_order_given():
    articles = [8, 5, 5, 2, 9]
    duplicates = [41, 41, 40, None, 40]

    assert cv_groups(article_ids=articles, duplicate_groups=duplicates) == [5, 5, 5, 2, 5]
    assert cv_groups(article_ids=articles[::-1], duplicate_groups=duplicates[::-1]) == [5, 2, 5, 5, 5]


def test_articles_and_duplicate_groups_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        cv_groups(article_ids=[1, 2], duplicate_groups=[None])
