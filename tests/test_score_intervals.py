from __future__ import annotations

import pytest

from annotate import classifier
from annotate.score_intervals import intervals, wilson

# Rows gold, columns predicted, in pro, contra, neutral order.
CONFUSION = [[5, 1, 0], [2, 6, 1], [0, 3, 9]]


def point(confusion: list[list[int]]) -> classifier.Metrics:
    """The classifier's own scores of the predictions this matrix counts."""
    true, predicted = [], []
    for i, row in enumerate(confusion):
        for j, n in enumerate(row):
            true += [classifier.CLASSES[i]] * n
            predicted += [classifier.CLASSES[j]] * n
    return classifier.evaluate(true, predicted, folds=0)


def test_wilson_gives_the_published_interval_for_8_of_10():
    # Newcombe (1998), Statistics in Medicine 17, 857-872: 0.4902 to 0.9433 for 8/10.
    got = wilson(8, 10)
    assert (round(got.low, 4), round(got.high, 4)) == (0.4902, 0.9433)


def test_wilson_stays_within_0_and_1_at_the_ends():
    assert wilson(0, 5).low == 0.0
    assert wilson(5, 5).high == 1.0
    assert wilson(5, 5).low == pytest.approx(0.5655, abs=1e-4)


def test_each_interval_holds_the_score_it_belongs_to():
    figures, scored = intervals(CONFUSION), point(CONFUSION)

    assert figures is not None and figures.n == 27
    assert figures.accuracy.low < scored.accuracy < figures.accuracy.high
    assert figures.f_avg.low < scored.f_avg < figures.f_avg.high
    assert figures.macro_f1.low < scored.macro_f1 < figures.macro_f1.high


def test_ten_times_the_sentences_give_a_narrower_interval():
    small, large = intervals(CONFUSION), intervals([[10 * n for n in row] for row in CONFUSION])

    assert large.f_avg.high - large.f_avg.low < (small.f_avg.high - small.f_avg.low) / 2
    assert large.accuracy.high - large.accuracy.low < (small.accuracy.high - small.accuracy.low) / 2


def test_the_bootstrap_is_seeded_so_a_page_shows_the_same_interval_each_time():
    assert intervals(CONFUSION) == intervals(CONFUSION)


def test_perfect_predictions_have_no_spread_and_no_matrix_has_no_interval():
    perfect = intervals([[4, 0, 0], [0, 4, 0], [0, 0, 4]])

    assert (perfect.f_avg.low, perfect.f_avg.high) == (1.0, 1.0)
    assert intervals([]) is None
    assert intervals([[0, 0], [0, 0]]) is None
