"""annotate.dawid_skene on synthetic annotators whose confusion matrices are known.

No published crowd dataset ships inside an installed package (crowd-kit, which bundles
loaders for some, is not installed and downloads them at run time; statsmodels' Fleiss
(1971) table has its ratings sorted within each row, so no rater is the same person across
subjects). The checks are therefore simulations with a seeded numpy generator, a plain
loop-by-loop EM the fit must agree with, and the degenerate cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotate.dawid_skene import NO_CLASS, DawidSkeneError, fit

PRIOR = np.array([0.3, 0.25, 0.45])  # pro, contra, neutral


def symmetric(accuracy: float, k: int = 3) -> np.ndarray:
    """Right with chance `accuracy`, else any other label alike."""
    matrix = np.full((k, k), (1 - accuracy) / (k - 1))
    np.fill_diagonal(matrix, accuracy)
    return matrix


def simulate(seed: int, confusions: np.ndarray, *, items: int, per_item: int):
    """Labels of `per_item` different annotators on each item, drawn from their matrices."""
    rng = np.random.default_rng(seed)
    workers, k, _ = confusions.shape
    truth = rng.choice(k, size=items, p=PRIOR)
    chosen = np.argsort(rng.random((items, workers)), axis=1)[:, :per_item]
    item = np.repeat(np.arange(items), per_item)
    annotator = chosen.ravel()
    rows = confusions[annotator, truth[item]]
    label = (rng.random(item.size)[:, None] > np.cumsum(rows, axis=1)).sum(axis=1)
    return item, annotator, label, truth


def majority(item: np.ndarray, label: np.ndarray, items: int, k: int = 3) -> np.ndarray:
    """The strict majority label of each item, NO_CLASS without one (annotate.gold's rule)."""
    counts = np.zeros((items, k), dtype=int)
    np.add.at(counts, (item, label), 1)
    top = counts.max(axis=1)
    return np.where(top * 2 > counts.sum(axis=1), counts.argmax(axis=1), NO_CLASS)


ACCURACIES = np.array([0.95, 0.85, 0.75, 0.65, 0.55])


def test_it_recovers_the_accuracies_of_simulated_annotators_within_three_points():
    confusions = np.stack([symmetric(a) for a in ACCURACIES])
    item, annotator, label, truth = simulate(7, confusions, items=3000, per_item=3)

    model = fit(items=item, annotators=annotator, labels=label, n_classes=3)

    assert model.converged
    assert list(model.annotator_ids) == [0, 1, 2, 3, 4]
    # About 1,800 labels each: the sampling error of an accuracy is about 0.01.
    assert np.abs(model.accuracy - ACCURACIES).max() < 0.03
    assert np.abs(model.confusion - confusions).max() < 0.08
    assert np.abs(model.prior - PRIOR).max() < 0.03
    assert (model.classes == truth).mean() > 0.9
    assert np.allclose(model.posterior.sum(axis=1), 1) and np.allclose(model.confusion.sum(axis=2), 1)


def test_it_beats_majority_vote_when_two_annotators_mostly_default_to_neutral():
    # One careful annotator; two who say neutral six times in ten whatever the sentence.
    # When both default, majority vote says neutral; the model learns their neutral means
    # little and follows the careful one.
    lazy = np.array([[0.4, 0.0, 0.6], [0.0, 0.4, 0.6], [0.0, 0.0, 1.0]])
    confusions = np.stack([symmetric(0.9), lazy, lazy])
    item, annotator, label, truth = simulate(11, confusions, items=3000, per_item=3)

    model = fit(items=item, annotators=annotator, labels=label, n_classes=3)

    model_accuracy = (model.classes == truth).mean()
    majority_accuracy = (majority(item, label, 3000) == truth).mean()
    assert majority_accuracy < 0.8
    assert model_accuracy > 0.92
    assert model_accuracy - majority_accuracy > 0.12
    # The pseudo-label a cell keeps the lazy pair's zero cells a little above zero.
    assert np.abs(model.confusion - confusions).max() < 0.06


def plain_em(item, annotator, label, k, clamped, smoothing=1.0, steps=3000):
    """Dawid-Skene's EM written item by item and label by label, for comparison."""
    items, annotators = sorted(set(item) | set(clamped)), sorted(set(annotator))
    labels_of = {i: [] for i in items}
    for i, w, given in zip(item, annotator, label, strict=True):
        labels_of[i].append((annotators.index(w), given))
    posterior = {}
    for i in items:
        if i in clamped:
            posterior[i] = [float(c == clamped[i]) for c in range(k)]
        else:
            posterior[i] = [
                sum(1 for _, given in labels_of[i] if given == c) / len(labels_of[i]) for c in range(k)
            ]
    for _ in range(steps):
        prior = [
            (sum(posterior[i][c] for i in items) + smoothing) / (len(items) + k * smoothing) for c in range(k)
        ]
        matrix = [[[smoothing] * k for _ in range(k)] for _ in annotators]
        for i in items:
            for w, given in labels_of[i]:
                for c in range(k):
                    matrix[w][c][given] += posterior[i][c]
        matrix = [[[cell / sum(row) for cell in row] for row in rows] for rows in matrix]
        for i in items:
            if i in clamped:
                continue
            logs = [
                math.log(prior[c]) + sum(math.log(matrix[w][c][given]) for w, given in labels_of[i])
                for c in range(k)
            ]
            top = max(logs)
            weights = [math.exp(x - top) for x in logs]
            posterior[i] = [x / sum(weights) for x in weights]
    return np.array([posterior[i] for i in items]), np.array(matrix)


def test_it_reaches_the_fixed_point_of_a_plain_loop_by_loop_em():
    confusions = np.stack([symmetric(a) for a in (0.9, 0.7, 0.6, 0.5)])
    item, annotator, label, _ = simulate(3, confusions, items=40, per_item=2)
    clamped = {0: 2, 5: 1, 99: 0}  # 99 has no label

    model = fit(items=item, annotators=annotator, labels=label, n_classes=3, clamped=clamped, tol=1e-12)
    posterior, matrix = plain_em(item.tolist(), annotator.tolist(), label.tolist(), 3, clamped)

    assert model.converged
    assert list(model.item_ids) == [*range(40), 99]
    assert np.abs(model.posterior - posterior).max() < 1e-6
    assert np.abs(model.confusion - matrix).max() < 1e-6


def test_a_clamped_item_keeps_its_class_when_every_annotator_disagrees():
    confusions = np.stack([symmetric(0.8)] * 3)
    item, annotator, label, _ = simulate(5, confusions, items=200, per_item=3)
    label[item == 0] = 0  # all three say pro

    model = fit(items=item, annotators=annotator, labels=label, n_classes=3, clamped={0: 1})

    assert model.posterior[0].tolist() == [0.0, 1.0, 0.0]
    assert model.classes[0] == 1
    assert model.clamped.tolist() == [True] + [False] * 199


def test_clamped_items_teach_the_confusion_matrices():
    # Annotator 0 always says pro; clamping every item to its true class shows them wrong on
    # every item whose truth is not pro, whatever the others say.
    item = np.repeat(np.arange(60), 2)
    annotator = np.tile([0, 1], 60)
    truth = np.arange(60) % 3
    label = np.where(annotator == 0, 0, truth[item])

    model = fit(
        items=item, annotators=annotator, labels=label, n_classes=3, clamped=dict(enumerate(truth.tolist()))
    )

    # 20 items of each class, and one pseudo-label in each cell (the smoothing).
    assert model.confusion[0, :, 0] == pytest.approx([21 / 23] * 3)  # pro whatever the truth
    assert model.accuracy[0] == pytest.approx(1 / 3)
    assert model.accuracy[1] == pytest.approx(21 / 23)


def test_a_clamped_item_without_labels_is_an_item_of_the_fit_with_its_class():
    model = fit(items=[1, 1], annotators=[7, 8], labels=[0, 0], n_classes=3, clamped={5: 2})

    assert model.item_ids.tolist() == [1, 5]
    assert model.posterior[1].tolist() == [0.0, 0.0, 1.0]
    assert model.counts.tolist() == [[2, 0, 0], [0, 0, 0]]


def test_with_one_annotator_the_gold_labels_are_their_labels():
    rng = np.random.default_rng(1)
    label = rng.integers(0, 3, 50)

    model = fit(
        items=np.repeat(np.arange(50), [1, 2] * 25),
        annotators=np.zeros(75, dtype=int),
        labels=np.repeat(label, [1, 2] * 25),
        n_classes=3,
    )

    # Nothing to weigh their labels against (even where they labelled twice): they stand.
    assert not model.identifiable and model.iterations == 0 and model.converged
    assert model.classes.tolist() == label.tolist()
    assert model.posterior.tolist() == np.eye(3)[label].tolist()


def test_when_every_annotator_agrees_each_item_gets_that_label_with_near_certainty():
    item = np.repeat(np.arange(300), 3)
    label = np.repeat(np.arange(300) % 3, 3)

    model = fit(items=item, annotators=np.tile([4, 5, 6], 300), labels=label, n_classes=3)

    assert model.classes.tolist() == (np.arange(300) % 3).tolist()
    assert model.posterior.max(axis=1).min() > 0.999
    assert np.diagonal(model.confusion, axis1=1, axis2=2) == pytest.approx(
        np.full((3, 3), 101 / 103), abs=1e-4
    )


def test_no_label_and_nothing_clamped_is_an_empty_fit():
    model = fit(items=[], annotators=[], labels=[], n_classes=3)

    assert (model.item_ids.size, model.annotator_ids.size, model.iterations) == (0, 0, 0)
    assert model.converged
    assert model.posterior.shape == (0, 3) and model.confusion.shape == (0, 3, 3)
    assert model.classes.tolist() == [] and model.accuracy.tolist() == []
    assert model.log_likelihood == 0.0


def test_a_disagreement_mirrored_in_every_respect_is_a_tie_left_unresolved():
    # A says pro and B contra on one item, the other way round on the other: nothing can
    # tell which of them is right.
    model = fit(items=[0, 0, 1, 1], annotators=[0, 1, 0, 1], labels=[0, 1, 1, 0], n_classes=3)

    assert model.classes.tolist() == [NO_CLASS, NO_CLASS]
    assert model.posterior[0, 0] == pytest.approx(model.posterior[0, 1])


def test_the_same_labels_in_another_order_and_with_other_ids_give_the_same_fit():
    confusions = np.stack([symmetric(a) for a in (0.9, 0.7, 0.6)])
    item, annotator, label, _ = simulate(9, confusions, items=300, per_item=2)
    order = np.random.default_rng(0).permutation(item.size)

    first = fit(items=item, annotators=annotator, labels=label, n_classes=3)
    second = fit(
        items=item[order] * 10 + 5, annotators=annotator[order] + 100, labels=label[order], n_classes=3
    )

    assert second.item_ids.tolist() == (first.item_ids * 10 + 5).tolist()
    assert second.annotator_ids.tolist() == [100, 101, 102]
    # The sums run in another order, so the steps differ by rounding: within the tolerance.
    assert np.abs(first.posterior - second.posterior).max() < 1e-5


def test_it_stops_at_its_step_limit_and_says_it_did_not_converge():
    confusions = np.stack([symmetric(a) for a in (0.9, 0.6, 0.5)])
    item, annotator, label, _ = simulate(2, confusions, items=500, per_item=2)

    model = fit(items=item, annotators=annotator, labels=label, n_classes=3, max_iter=3)

    assert model.iterations == 3 and not model.converged
    assert np.allclose(model.posterior.sum(axis=1), 1)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"items": [0, 1], "annotators": [0], "labels": [0, 1]}, "of one length"),
        ({"items": [0], "annotators": [0], "labels": [3]}, "labels must be class numbers from 0 to 2"),
        ({"items": [0], "annotators": [0], "labels": [-1]}, "labels must be class numbers from 0 to 2"),
        ({"items": [0.5], "annotators": [0], "labels": [0]}, "items must be integers"),
        ({"items": [[0]], "annotators": [[0]], "labels": [[0]]}, "must be one-dimensional"),
        (
            {"items": [0], "annotators": [0], "labels": [0], "clamped": {0: 5}},
            "clamped classes must be from 0 to 2",
        ),
        ({"items": [], "annotators": [], "labels": [], "n_classes": 0}, "n_classes must be at least 1"),
    ],
)
def test_input_it_cannot_fit_is_refused_with_what_is_wrong(inputs, message):
    with pytest.raises(DawidSkeneError, match=message):
        fit(**{"n_classes": 3, **inputs})
