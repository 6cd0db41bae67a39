"""The stance classifier: pure scikit-learn, no Django.

Word and character n-gram TF-IDF features feed a linear SVM whose scores are turned into
calibrated probabilities (Platt scaling in CalibratedClassifierCV); class weights are
balanced because stance corpora are dominated by neutral sentences.

scikit-learn (and SciPy and numpy under it) is imported inside the functions that train
and score, not at the top: importing this module for its names (CLASSES, TrainingError)
must not cost a process ~100 MB of libraries it never calls. tests/test_lazy_imports.py
checks it.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from sklearn.pipeline import Pipeline

CLASSES: tuple[str, ...] = ("pro", "contra", "neutral")
#: The fewest examples a class needs for nested folds (cross-validation, calibration).
MIN_PER_CLASS = 3
MAX_FOLDS = 5


class TrainingError(ValueError):
    """Labels that cannot make a model; the message says why, for the user."""


@dataclass
class Metrics:
    accuracy: float
    macro_f1: float
    f_avg: float  # mean F1 of pro and contra, the usual stance metric
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]  # rows: true label, columns: predicted, in CLASSES order
    folds: int
    classes: tuple[str, ...] = CLASSES

    def as_dict(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "f_avg": self.f_avg,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "folds": self.folds,
            "classes": list(self.classes),
        }


@dataclass
class Prediction:
    label: str
    probabilities: dict[str, float]
    confidence: float  # probability of the predicted label
    margin: float  # best minus second-best probability
    entropy: float  # in bits, over the three classes


@dataclass
class TrainedModel:
    pipeline: Pipeline
    metrics: Metrics
    train_size: int
    distribution: dict[str, int] = field(default_factory=dict)


def build_pipeline(folds: int = 3) -> Pipeline:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2), sublinear_tf=True, max_features=200_000, token_pattern=r"(?u)\b\w+\b"
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=300_000
                ),
            ),
        ]
    )
    classifier = CalibratedClassifierCV(LinearSVC(class_weight="balanced"), method="sigmoid", cv=folds)
    return Pipeline([("features", features), ("classifier", classifier)])


def check_labels(labels: Sequence[str]) -> Counter[str]:
    """Refuse label sets that cannot train a useful model, with a reason."""
    unknown = sorted(set(labels) - set(CLASSES))
    if unknown:
        raise TrainingError(f"Unknown labels {unknown}; expected {list(CLASSES)}.")
    counts = Counter(labels)
    usable = [label for label, n in counts.items() if n >= MIN_PER_CLASS]
    if len(usable) < 2:
        raise TrainingError(
            f"Need at least two classes with {MIN_PER_CLASS} or more labels each; have {dict(counts) or 'none'}."
        )
    return counts


def _folds(labels: Sequence[str]) -> int:
    smallest = min(Counter(labels).values())
    return max(2, min(MAX_FOLDS, smallest))


def _drop_rare(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leave out a class with a single example: it cannot be cross-validated."""
    counts = Counter(labels)
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if counts[y] >= MIN_PER_CLASS]
    return [t for t, _ in kept], [y for _, y in kept]


def evaluate(true: Sequence[str], predicted: Sequence[str], folds: int) -> Metrics:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=list(CLASSES), zero_division=0
    )
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(CLASSES)
    }
    present = [label for label in CLASSES if label in set(true)]
    return Metrics(
        accuracy=float(accuracy_score(true, predicted)),
        macro_f1=float(f1_score(true, predicted, labels=present, average="macro", zero_division=0)),
        f_avg=float((per_class["pro"]["f1"] + per_class["contra"]["f1"]) / 2),
        per_class=per_class,
        confusion=confusion_matrix(true, predicted, labels=list(CLASSES)).tolist(),
        folds=folds,
    )


def train(texts: Sequence[str], labels: Sequence[str], *, random_state: int = 0) -> TrainedModel:
    """Cross-validated metrics, then the model fitted on every label."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if len(texts) != len(labels):
        raise TrainingError("texts and labels differ in length")
    counts = check_labels(labels)
    texts, labels = _drop_rare(texts, labels)
    folds = _folds(labels)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    # Calibration splits each training fold again; with few labels a class may be missing
    # from a split, which scikit-learn tolerates with a warning we do not need to show.
    calibration_folds = 3 if min(Counter(labels).values()) >= 3 * folds else 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        predicted = cross_val_predict(build_pipeline(calibration_folds), texts, labels, cv=splitter)
        pipeline = build_pipeline(min(3, min(Counter(labels).values())))
        pipeline.fit(texts, labels)
    metrics = evaluate(labels, predicted, folds)
    return TrainedModel(pipeline=pipeline, metrics=metrics, train_size=len(texts), distribution=dict(counts))


def _entropy(row: np.ndarray) -> float:
    import numpy as np

    nonzero = row[row > 0]
    return float(-(nonzero * np.log2(nonzero)).sum())


def predict(pipeline: Pipeline, texts: Sequence[str]) -> list[Prediction]:
    """Probabilities for pro, contra and neutral (0 for a class the model never saw)."""
    import numpy as np

    if not texts:
        return []
    probabilities = pipeline.predict_proba(texts)
    known = list(pipeline.classes_)
    full = np.zeros((len(texts), len(CLASSES)))
    for j, label in enumerate(CLASSES):
        if label in known:
            full[:, j] = probabilities[:, known.index(label)]
    ordered = np.sort(full, axis=1)
    results = []
    for i, row in enumerate(full):
        best = int(row.argmax())
        results.append(
            Prediction(
                label=CLASSES[best],
                probabilities={label: round(float(row[j]), 6) for j, label in enumerate(CLASSES)},
                confidence=float(row[best]),
                margin=float(ordered[i, -1] - ordered[i, -2]),
                entropy=_entropy(row),
            )
        )
    return results
