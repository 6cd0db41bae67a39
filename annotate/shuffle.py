"""The random order's shuffle: a fixed pseudo-random key for every sentence, from its id.

The queue's random order walks sentences by (shuffle key, id) from each annotator's
cursor (annotate/queue/cursors.py), so every annotator walks the same shuffle of the corpus
and a sentence's overlap fills as it does in article order. The key is a stored column the
database computes from the id (Sentence.shuffle_key, a generated column), so every way a
sentence is stored (the ORM, a raw INSERT) gets it, and it is indexed.

The key must scatter consecutive ids, which are an article's sentences: a plain
multiplicative hash (id * 2654435761 mod 2**32) does, but its order is a lattice: the
first 200 of 4,000 ids come one from every 20, and successive ids differ by one of three
numbers (a stratified sample, not a random one). Squaring the scrambled id modulo a prime
breaks the lattice up: by the gaps between the first picks and the articles they come
from, the order looks like a uniform shuffle (tests/test_shuffle.py). Two ids may share a
key; the id breaks the tie.

Written with `%` and `*` on integers below 2**63 only, so SQLite (which turns an integer
overflow into a float) and PostgreSQL (bigint) compute the same key; `shuffle_key` is its
Python twin (the benchmarks' and the cursors' rewinds), tested against the database's values.
"""

from __future__ import annotations

#: The scrambling multiplier, odd (so a bijection modulo SCRAMBLE_MODULUS): Knuth's
#: 2654435761 reduced modulo 2**31.
SCRAMBLE_MULTIPLIER = 2654435761 % 2**31
SCRAMBLE_MODULUS = 2**31
#: A prime (2**31 - 1): the scrambled id (below 2**31) squared stays below 2**62.
SQUARE_MODULUS = 2**31 - 1


def shuffle_key(sentence_id: int) -> int:
    """The sentence's key in the random order, as the database computes it."""
    scrambled = (sentence_id % SCRAMBLE_MODULUS) * SCRAMBLE_MULTIPLIER % SCRAMBLE_MODULUS
    return scrambled * scrambled % SQUARE_MODULUS


def shuffled(sentence_ids: list[int]) -> list[int]:
    """The ids in the random order's sequence."""
    return sorted(sentence_ids, key=lambda sentence_id: (shuffle_key(sentence_id), sentence_id))
