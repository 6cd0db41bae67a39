from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.classifier import (
    CLASSES,
    TrainingError,
    build_pipeline,
    cv_splits,
    evaluate,
    predict,
    score_slice,
    train,
)
from annotate.splits import cv_groups

WORDS = {
    "pro": "good safe trusted open fair partner welcome".split(),
    "contra": "risk danger spying threat ban exclude warning".split(),
    "neutral": "said monday report network decision week council".split(),
}


def corpus(n: int = 120, seed: int = 1) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = CLASSES[i % 3]
        texts.append(" ".join(rng.choices(WORDS[label], k=4) + rng.choices(WORDS["neutral"], k=3)))
        labels.append(label)
    return texts, labels


def test_the_classifier_module_imports_without_django():
    code = "import sys, annotate.classifier; assert 'django' not in sys.modules, 'django imported'"
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, env={})
    assert result.returncode == 0, result.stderr


def test_training_reports_cross_validated_metrics_and_predicts_probabilities():
    texts, labels = corpus()
    model = train(texts, labels)
    assert model.metrics.folds == 5
    assert model.metrics.accuracy > 0.9
    assert set(model.metrics.per_class) == set(CLASSES)
    assert sum(map(sum, model.metrics.confusion)) == len(texts)
    [prediction] = predict(model.pipeline, ["a spying threat and a risk"])
    assert prediction.label == "contra"
    assert set(prediction.probabilities) == set(CLASSES)
    assert sum(prediction.probabilities.values()) == pytest.approx(1, abs=1e-3)
    assert 0 <= prediction.margin <= prediction.confidence <= 1


def test_f_avg_is_the_mean_of_pro_and_contra_f1():
    metrics = evaluate(["pro", "pro", "contra", "neutral"], ["pro", "contra", "contra", "neutral"], folds=2)
    pro_f1, contra_f1 = 2 / 3, 2 / 3
    assert metrics.f_avg == pytest.approx((pro_f1 + contra_f1) / 2)
    assert metrics.confusion == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_a_single_class_is_refused():
    with pytest.raises(TrainingError, match="at least two classes"):
        train(["a", "b", "c", "d"], ["pro"] * 4)


def test_too_few_labels_per_class_are_refused():
    with pytest.raises(TrainingError, match="at least two classes"):
        train(["a", "b", "c", "d"], ["pro", "pro", "contra", "contra"])


def test_an_unknown_label_is_refused():
    with pytest.raises(TrainingError, match="Unknown labels"):
        train(["a", "b", "c"], ["pro", "contra", "maybe"])


def test_a_class_with_one_example_is_left_out_and_predicted_with_zero_probability():
    texts, labels = corpus(12)
    labels = [y if y != "neutral" else "pro" for y in labels]
    labels[0] = "neutral"
    model = train(texts, labels)
    assert model.distribution["neutral"] == 1
    [prediction] = predict(model.pipeline, ["anything"])
    assert prediction.probabilities["neutral"] == 0
    assert [p.index for p in model.out_of_fold] == list(range(1, 12))  # not trained on, not predicted


# Out-of-fold predictions


def test_each_training_label_keeps_the_out_of_fold_prediction_its_scores_are_computed_from():
    texts, labels = corpus(30)
    labels[::4] = ["neutral"] * len(labels[::4])  # noisy, so some predictions are wrong
    order = list(range(30))
    random.Random(3).shuffle(order)
    texts, labels = [texts[i] for i in order], [labels[i] for i in order]

    model = train(texts, labels, groups=[i % 6 for i in range(30)])

    assert [p.index for p in model.out_of_fold] == list(range(30))  # in the order given
    predicted = [p.label for p in model.out_of_fold]
    scored = evaluate(labels, predicted, folds=model.metrics.folds)
    assert (scored.confusion, scored.accuracy) == (model.metrics.confusion, model.metrics.accuracy)
    assert predicted != labels
    assert all(1 / 3 <= p.confidence <= 1 for p in model.out_of_fold)  # the most probable label's


def test_a_reprints_out_of_fold_prediction_comes_from_a_fold_model_without_its_copies():
    texts, labels, articles, duplicates = reprinted_corpus(stories=8)
    groups = cv_groups(article_ids=articles, duplicate_groups=duplicates)

    model = train(texts, labels, groups=groups)

    out_of_fold = sum(p.label == labels[p.index] for p in model.out_of_fold) / len(labels)
    in_sample = sum(p.label == y for p, y in zip(predict(model.pipeline, texts), labels, strict=True))
    assert in_sample / len(labels) > 0.9  # the model trained on them knows every story
    assert out_of_fold < 0.6  # a fold model that never saw the story guesses (chance is 1/3)


# Grouped cross-validation on reprinted stories


def reprinted_corpus(stories: int = 16, reprints: int = 3, seed: int = 5) -> tuple[list[str], ...]:
    """Stories whose sentences are reprinted, a word changed, by several outlets.

    A sentence's words say nothing about its label (drawn at random per story sentence), so
    only a model that has seen a near-copy can get it right: an honest score is near chance.
    Returns texts, labels, article ids and duplicate groups (one per story sentence).
    """
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(400)]
    texts, labels, articles, duplicates = [], [], [], []
    for story in range(stories):
        originals = [(rng.sample(vocabulary, 8), CLASSES[rng.randrange(3)]) for _ in range(6)]
        for reprint in range(reprints):
            article = story * reprints + reprint
            for k, (words, label) in enumerate(originals):
                copy = list(words)
                copy[rng.randrange(len(copy))] = rng.choice(vocabulary)
                texts.append(" ".join(copy))
                labels.append(label)
                articles.append(article)
                duplicates.append(story * 100 + k)
    return texts, labels, articles, duplicates


def test_no_validation_fold_shares_a_group_with_its_training_fold():
    _, labels, articles, duplicates = reprinted_corpus()
    groups = cv_groups(article_ids=articles, duplicate_groups=duplicates)

    cross_validation = cv_splits(labels, groups, random_state=3)

    assert cross_validation.validation.grouped
    assert cross_validation.validation.groups == 16  # the reprints of a story are one group
    seen = []
    for training, validation in cross_validation.splits:
        assert not {groups[i] for i in training} & {groups[i] for i in validation}
        seen += validation
    assert sorted(seen) == list(range(len(labels)))  # every label validated once


def test_grouped_cross_validation_is_not_fooled_by_reprints_as_ungrouped_is():
    texts, labels, articles, duplicates = reprinted_corpus()
    groups = cv_groups(article_ids=articles, duplicate_groups=duplicates)

    ungrouped = train(texts, labels).metrics
    by_article = train(
        texts, labels, groups=cv_groups(article_ids=articles, duplicate_groups=[None] * len(articles))
    ).metrics
    grouped = train(texts, labels, groups=groups, grouped_by="article and duplicate group").metrics

    assert ungrouped.accuracy > 0.8  # it has seen a near-copy of nearly every sentence
    assert by_article.accuracy > 0.8  # reprints sit in other articles: grouping by article is not enough
    assert grouped.accuracy < 0.5  # chance is about 1/3
    assert grouped.macro_f1 <= ungrouped.macro_f1
    assert grouped.validation.grouped and not ungrouped.validation.grouped
    assert "grouped by article and duplicate group (16 groups)" in grouped.validation.how
    assert "optimistic" in ungrouped.validation.how


def test_grouped_folds_never_outnumber_the_groups():
    texts, labels = corpus(60)
    groups = [i % 3 for i in range(60)]

    metrics = train(texts, labels, groups=groups).metrics

    assert (metrics.folds, metrics.validation.groups) == (3, 3)
    assert metrics.as_dict()["cv"]["folds"] == 3


# Deterministic training


def test_the_same_labels_in_another_order_give_the_same_scores_and_model():
    texts, labels = corpus(90, seed=4)
    labels[::7] = ["neutral"] * len(labels[::7])  # noisy, so folds and calibration matter
    groups = [i % 9 for i in range(90)]
    order = list(range(90))
    random.Random(11).shuffle(order)

    first = train(texts, labels, groups=groups)
    second = train([texts[i] for i in order], [labels[i] for i in order], groups=[groups[i] for i in order])

    assert first.metrics.as_dict() == second.metrics.as_dict()
    for name in ("accuracy", "macro_f1", "f_avg"):
        assert getattr(first.metrics, name) == pytest.approx(getattr(second.metrics, name), abs=1e-12)
    assert first.metrics.confusion == second.metrics.confusion
    # Each text keeps the same out-of-fold prediction, wherever it was given.
    by_text = [
        sorted((given[p.index], p.label, round(p.confidence, 9)) for p in m.out_of_fold)
        for m, given in ((first, texts), (second, [texts[i] for i in order]))
    ]
    assert by_text[0] == by_text[1]
    probe = ["a spying threat", "a trusted partner", "said on monday", texts[0]]
    for one, other in zip(predict(first.pipeline, probe), predict(second.pipeline, probe), strict=True):
        assert one.probabilities == pytest.approx(other.probabilities, abs=1e-9)


def test_calibration_folds_are_shuffled_and_seeded():
    classifier = build_pipeline(3, random_state=42).named_steps["classifier"]

    assert (classifier.cv.n_splits, classifier.cv.shuffle, classifier.cv.random_state) == (3, True, 42)
    assert classifier.estimator.random_state == 42


# The evaluation slice


def test_the_slice_score_is_the_fitted_models_score_on_those_sentences():
    from sklearn.metrics import f1_score

    texts, labels = corpus(60)
    model = train(texts, labels)
    held_texts, held_labels = corpus(15, seed=9)
    held_labels[:3] = ["neutral", "pro", "contra"]  # some the words contradict

    score = score_slice(model.pipeline, held_texts, held_labels)

    predicted = list(model.pipeline.predict(held_texts))
    pro, contra = f1_score(held_labels, predicted, labels=["pro", "contra"], average=None)
    assert score.n == 15
    assert score.metrics.f_avg == pytest.approx((pro + contra) / 2, abs=1e-12)
    assert score.as_dict()["scored"] is True


def test_a_slice_under_ten_labels_is_not_scored():
    texts, labels = corpus(60)
    model = train(texts, labels)

    score = score_slice(model.pipeline, texts[:9], labels[:9])

    assert score.metrics is None
    assert score.reason == "too small to score: 9 gold labels, at least 10 are needed"
    assert "f_avg" not in score.as_dict()


def test_a_slice_missing_a_class_the_model_knows_is_not_scored():
    texts, labels = corpus(60)
    model = train(texts, labels)
    kept = [i for i, y in enumerate(labels) if y != "contra"][:12]

    score = score_slice(model.pipeline, [texts[i] for i in kept], [labels[i] for i in kept])

    assert score.metrics is None
    assert score.reason == "too small to score: no contra sentence among its 12 gold labels"


def test_fit_is_the_model_train_ends_with():
    from annotate.classifier import fit

    texts, labels = corpus()
    trained = train(texts, labels).pipeline
    fitted = fit(list(reversed(texts)), list(reversed(labels)))
    probe = ["good safe report", "danger ban week", "said monday council"]
    assert [p.probabilities for p in predict(fitted, probe)] == [
        p.probabilities for p in predict(trained, probe)
    ]


def test_fit_refuses_what_train_refuses():
    from annotate.classifier import fit

    with pytest.raises(TrainingError):
        fit(["a", "b", "c", "d"], ["pro"] * 4)
