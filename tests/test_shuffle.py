"""The random order's shuffle key (annotate/shuffle.py): the database's generated column and
its Python twin agree, and the order it makes looks like a uniform shuffle."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest
from django.db import connection

from annotate.models import Sentence
from annotate.shuffle import shuffle_key, shuffled
from tests.factories import ArticleFactory, SentenceFactory

#: Ids from the first to beyond 32 bits, and either side of the moduli (2**31, 2**31 - 1).
IDS = [1, 2, 3, 7, 1000, 2**31 - 2, 2**31 - 1, 2**31, 2**31 + 1, 2**32 + 5, 10**12 + 3, 2**53 + 1]


@pytest.mark.django_db
def test_the_database_computes_the_key_its_python_twin_does_for_every_id():
    article = ArticleFactory()
    for position, sentence_id in enumerate(IDS):
        SentenceFactory(id=sentence_id, article=article, position=position)

    stored = dict(Sentence.objects.filter(pk__in=IDS).values_list("id", "shuffle_key"))

    assert stored == {sentence_id: shuffle_key(sentence_id) for sentence_id in IDS}


@pytest.mark.django_db
def test_a_sentence_inserted_by_raw_sql_gets_its_key_too():
    article = ArticleFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "annotate_sentence" ("id", "article_id", "position", "text", "start", "end")'
            " VALUES (%s, %s, 0, 'Raw.', 0, 4)",
            [424242, article.pk],
        )

    assert Sentence.objects.get(pk=424242).shuffle_key == shuffle_key(424242)


def test_every_key_is_an_integer_below_2_to_the_31():
    assert all(0 <= shuffle_key(i) < 2**31 for i in [*IDS, *range(1, 5000)])


def gaps_and_steps(order: list[int], first: int) -> tuple[float, int]:
    """The coefficient of variation of the gaps between the first picks' ids (sorted), and
    how many different steps there are from one pick to the next."""
    picked = sorted(order[:first])
    gaps = [b - a for a, b in itertools.pairwise(picked)]
    steps = {abs(b - a) for a, b in itertools.pairwise(order[:first])}
    return statistics.pstdev(gaps) / statistics.mean(gaps), len(steps)


@pytest.mark.parametrize("first_id", [1, 12345, 700_001])
def test_the_shuffle_of_consecutive_ids_looks_like_a_uniform_one(first_id):
    ids = list(range(first_id, first_id + 4000))
    uniform = ids[:]
    random.Random(0).shuffle(uniform)
    lattice = sorted(ids, key=lambda i: (i * 2654435761 % 2**32, i))  # a plain multiplicative hash

    spread, steps = gaps_and_steps(shuffled(ids), 200)
    uniform_spread, uniform_steps = gaps_and_steps(uniform, 200)
    lattice_spread, lattice_steps = gaps_and_steps(lattice, 200)

    # A uniform shuffle's gaps vary about as much as they average (exponential), and its
    # steps are nearly all different; the lattice's gaps are nearly even, in three steps.
    assert uniform_spread > 0.8 and uniform_steps > 180
    assert lattice_spread < 0.4 and lattice_steps <= 3
    assert spread > 0.8 and steps > 180


def test_the_shuffle_is_not_article_order_for_the_first_ids():
    order = shuffled(list(range(1, 301)))

    assert order[:10] != sorted(order[:10])
    assert len({i // 10 for i in order[:20]}) >= 15  # 20 picks from at least 15 of 30 articles
