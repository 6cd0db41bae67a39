from __future__ import annotations

from annotate.splits import assign_splits, counts_by_split, split_sizes


def test_split_sizes_are_80_10_10_and_none_is_empty_from_three_articles():
    assert split_sizes(100) == [80, 10, 10]
    assert split_sizes(10) == [8, 1, 1]
    assert split_sizes(5) == [3, 1, 1]
    assert split_sizes(3) == [1, 1, 1]
    assert split_sizes(1) == [1, 0, 0]
    assert split_sizes(0) == [0, 0, 0]


def test_splits_are_deterministic_for_a_seed_and_change_with_it():
    articles = range(1, 201)
    assert assign_splits(articles, seed=13) == assign_splits(reversed(articles), seed=13)
    assert assign_splits(articles, seed=13) != assign_splits(articles, seed=14)
    counts = list(assign_splits(articles, seed=13).values())
    assert (counts.count("train"), counts.count("dev"), counts.count("test")) == (160, 20, 20)


def test_counts_by_split_add_up_each_splits_articles():
    ids = list(range(1, 31))
    counts = [[i, 2 * i, 1] for i in ids]
    splits = assign_splits(ids, seed=13)

    by_split = counts_by_split(ids=ids, counts=counts, seed=13)

    for name in ("train", "dev", "test"):
        mine = [row for article, row in zip(ids, counts, strict=True) if splits[article] == name]
        assert by_split[name] == [sum(column) for column in zip(*mine, strict=True)]
