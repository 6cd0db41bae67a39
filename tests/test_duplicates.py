"""Duplicate groups on texts (annotate/duplicates.py, no database)."""

from __future__ import annotations

import random

from annotate.duplicates import (
    ALL_PAIRS_BELOW,
    NEAR_MIN_CHARS,
    NEAR_THRESHOLD,
    near_pairs,
    normalise,
    sentence_groups,
    similarity,
    text_key,
)

BASE = "The ambassador said on Sunday that Britain should resist external pressure over Huawei's role in 5G."
WORDS = (
    "the of to and a in that is for on said government company network minister officials security "
    "China Britain Huawei equipment telecom decision ambassador country risk pressure cooperation "
    "investment market technology infrastructure operators mobile suppliers contracts ban warned"
).split()


def _prose(rng: random.Random, n: int = 18) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def test_case_whitespace_quotes_and_punctuation_do_not_make_a_new_text():
    variants = [
        BASE,
        BASE.upper(),
        "  " + BASE.replace(" ", "\n  ") + " ",
        BASE.replace("'", "\u2019").replace("5G.", "5G!"),
        "\u201c" + BASE.replace(",", "") + "\u201d",
        BASE.replace("Huawei's", "Huawei\u2019s").replace(" on ", " on\u00a0"),
    ]
    assert len({normalise(v) for v in variants}) == 1
    assert len({text_key(v) for v in variants}) == 1
    assert text_key(BASE) != text_key(BASE.replace("Sunday", "Monday"))


def _edge_pair() -> tuple[str, str, str]:
    """BASE, and BASE with ever longer runs of its characters replaced: the last variant at
    or above the threshold and the first below it."""
    above = BASE
    for length in range(1, 40):
        variant = BASE[:40] + "x" * length + BASE[40 + length :]
        if similarity(BASE, variant) < NEAR_THRESHOLD:
            return BASE, above, variant
        above = variant
    raise AssertionError("no variant below the threshold")


def test_the_threshold_groups_a_pair_at_it_and_not_one_just_below():
    base, above, below = _edge_pair()
    assert NEAR_THRESHOLD <= similarity(base, above) < NEAR_THRESHOLD + 0.03
    assert NEAR_THRESHOLD - 0.03 < similarity(base, below) < NEAR_THRESHOLD
    assert sentence_groups([(1, base), (2, above)]).group == {1: 1, 2: 1}
    assert sentence_groups([(1, base), (3, below)]).group == {1: 1, 3: 3}


def test_a_word_changed_in_a_news_sentence_is_near_identical():
    changed = BASE.replace("Sunday", "Monday")
    assert similarity(BASE, changed) >= NEAR_THRESHOLD
    assert sentence_groups([(10, BASE), (11, changed)]).group == {10: 10, 11: 10}


def test_short_texts_are_grouped_only_when_exact():
    a, b = "Sentence number 1234 about Huawei.", "Sentence number 1235 about Huawei."
    assert len(normalise(a)) < NEAR_MIN_CHARS
    assert similarity(a, b) >= NEAR_THRESHOLD
    assert sentence_groups([(1, a), (2, b), (3, a.upper())]).group == {1: 1, 2: 2, 3: 1}


def test_groups_are_chains_of_links_and_take_their_smallest_id():
    one = BASE
    two = BASE.replace("Sunday", "Monday")
    three = two.replace("Britain", "England")
    groups = sentence_groups(
        [(7, three), (5, two), (9, one), (2, "Something else entirely, long enough to count.")]
    )
    assert groups.group == {7: 5, 5: 5, 9: 5, 2: 2}
    assert groups.duplicated == {5: 3}


def test_the_minhash_search_finds_planted_copies_among_many_texts_and_nothing_false():
    rng = random.Random(3)
    texts = [normalise(_prose(rng)) for _ in range(3000)]
    assert len(texts) > ALL_PAIRS_BELOW  # the banded search, not every pair
    planted = set()
    for _ in range(60):
        i = rng.randrange(len(texts))
        words = texts[i].split()
        words[rng.randrange(len(words))] = "replacement"
        texts.append(" ".join(words))
        planted.add((i, len(texts) - 1))
    planted = {pair for pair in planted if similarity(texts[pair[0]], texts[pair[1]]) >= 0.8}
    found = set(near_pairs(texts))
    assert planted <= found
    assert all(similarity(texts[i], texts[j]) >= NEAR_THRESHOLD for i, j in found)
