from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from annotate.classifier import CLASSES, TrainingError, evaluate, predict, train

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
