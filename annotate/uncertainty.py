"""Which sentence the uncertainty orders hand out first: the one rule, without Django.

A version's suggestion stores three scores of the classifier's probabilities
(annotate.classifier.Prediction): the probability of the suggested label (`confidence`),
best minus second best (`margin`) and the entropy in bits (`entropy`). Each measure ranks
the sentences by one of them, the most uncertain first, ties by sentence id. The queue
walks that ranking in SQL over the suggestion index (annotate/queue/statements.py builds
its ORDER BY from RANKING); benchmarks/active_learning.py ranks its simulated pool with
`ranked`, so the benchmark measures the order the product hands out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotate.classifier import Prediction

LEAST_CONFIDENT = "least_confident"
MARGIN = "margin"
ENTROPY = "entropy"

#: Per measure: the suggestion column (a Prediction field of the same name) it ranks by,
#: and whether high comes first.
RANKING: dict[str, tuple[str, bool]] = {
    LEAST_CONFIDENT: ("confidence", False),
    MARGIN: ("margin", False),
    ENTROPY: ("entropy", True),
}


def ranking_key(measure: str, *, score: float, sentence_id: int) -> tuple[float, int]:
    """Where a sentence with this score of the measure comes in its ranking (lower first)."""
    descending = RANKING[measure][1]
    return (-score if descending else score, sentence_id)


def ranked(measure: str, *, sentence_ids: Sequence[int], predictions: Sequence[Prediction]) -> list[int]:
    """The sentence ids in the order the measure hands them out, most uncertain first."""
    if len(sentence_ids) != len(predictions):
        raise ValueError("sentence_ids and predictions differ in length")
    column = RANKING[measure][0]
    keys = {
        sentence_id: ranking_key(measure, score=float(getattr(p, column)), sentence_id=sentence_id)
        for sentence_id, p in zip(sentence_ids, predictions, strict=True)
    }
    return sorted(keys, key=keys.__getitem__)
