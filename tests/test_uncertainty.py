"""The uncertainty orders' one rule (annotate/uncertainty.py): what the queue's SQL orders
suggestions by and what benchmarks/active_learning.py ranks its pool by."""

from __future__ import annotations

import subprocess
import sys

import pytest

from annotate import uncertainty
from annotate.classifier import Prediction
from annotate.models import Suggestion, Uncertainty
from annotate.queue import statements
from tests.test_queue_orders import ORDERS, SCORES


def prediction(confidence: float, margin: float, entropy: float) -> Prediction:
    return Prediction(label="pro", probabilities={}, confidence=confidence, margin=margin, entropy=entropy)


@pytest.mark.parametrize("measure", sorted(ORDERS))
def test_ranked_hands_out_what_the_queue_hands_out(measure):
    # ORDERS is what tests/test_queue_orders.py checks the queue's SQL hands out.
    ids = list(range(len(SCORES)))
    assert (
        uncertainty.ranked(measure, sentence_ids=ids, predictions=[prediction(*s) for s in SCORES])
        == ORDERS[measure]
    )


@pytest.mark.parametrize("measure", sorted(ORDERS))
def test_ranked_breaks_ties_by_sentence_id(measure):
    same = [prediction(0.5, 0.2, 1.0)] * 3
    assert uncertainty.ranked(measure, sentence_ids=[9, 3, 5], predictions=same) == [3, 5, 9]


def test_the_queue_orders_by_the_same_rule():
    assert statements.UNCERTAINTY_COLUMNS is uncertainty.RANKING
    assert set(uncertainty.RANKING) == set(Uncertainty.values)


def test_each_measure_ranks_by_a_suggestion_column_and_a_prediction_field():
    columns = {f.name for f in Suggestion._meta.get_fields()}
    for column, _ in uncertainty.RANKING.values():
        assert column in columns
        assert column in Prediction.__dataclass_fields__


def test_ranked_refuses_ids_and_predictions_of_different_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        uncertainty.ranked("margin", sentence_ids=[1, 2], predictions=[prediction(0.5, 0.1, 1.0)])


def test_the_rule_imports_without_django():
    code = "import sys, annotate.uncertainty; assert 'django' not in sys.modules, 'django imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
