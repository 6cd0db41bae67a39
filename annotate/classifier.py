"""The stance classifier: pure scikit-learn, no Django.

Word and character n-gram TF-IDF features feed a linear SVM whose scores are turned into
calibrated probabilities (Platt scaling in CalibratedClassifierCV); class weights are
balanced because stance corpora are dominated by neutral sentences.

Scores are honest about what they measure. Cross-validation is grouped (the groups come
from annotate.splits.cv_groups, which knows articles and duplicate groups): a
sentence and its near-copies, and the rest of its article, are never split between a
training fold and its validation fold, because news outlets reprint wire copy and a model
that has seen a sentence's twin scores it too well. Every fold, here and inside the
calibration, is shuffled with a fixed seed, and the labels are put in one canonical order
first, so the same labels give the same model and the same scores in any order.

Two more blocks are optional. A target's mentions (its name and aliases, annotate.mentions,
the matcher the page highlights them with) are marked in the text before both TF-IDF
blocks, so n-grams such as "MARK said" tell the target from the other names in a sentence.
A sentence embedding (annotate.embeddings, computed once a sentence and stored) joins the
two TF-IDF blocks, scaled by `embedding_weight` and cut to its leading principal components
(`embedding_components`), in the same calibrated SVM. A pipeline
with the embedding block takes (text, vector) pairs; `predict` and `score_slice` are given
the vectors beside the texts and build them (`uses_embeddings` says which a pipeline is).

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
from typing import TYPE_CHECKING, Any

from annotate.mentions import mark_mentions

if TYPE_CHECKING:
    import numpy as np
    from sklearn.pipeline import Pipeline

CLASSES: tuple[str, ...] = ("pro", "contra", "neutral")
#: The fewest examples a class needs for nested folds (cross-validation, calibration).
MIN_PER_CLASS = 3
MAX_FOLDS = 5
#: Fewest gold labels the evaluation slice needs before its score is shown: below it one
#: sentence moves F_avg by several points.
MIN_SLICE = 10
#: The embedding block's scale beside the two TF-IDF blocks (each row of each block has
#: unit length); tuned on NewsMTSC's training split (benchmarks/newsmtsc.py: grouped CV
#: F_avg 71.1, 71.2, 70.9 at 0.5, 1, 2).
EMBEDDING_WEIGHT = 1.0
#: The embedding's leading principal components the SVM is given (PCA fitted on the training
#: labels), not all 384 dimensions: every dense column costs the SVM a non-zero in every row,
#: so the whole vector more than doubled a retrain's time, and on NewsMTSC's training split
#: (grouped CV F_avg, mentions marked) 64 components scored 70.8 against the whole vector's
#: 71.2 (32: 70.5, 128: 70.9; devtest within 0.5 either way). benchmarks/newsmtsc.py.
EMBEDDING_COMPONENTS = 64


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
    #: How the predictions scored here were made, said beside the score.
    validation: Validation | None = None

    def as_dict(self) -> dict[str, object]:
        figures: dict[str, object] = {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "f_avg": self.f_avg,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "folds": self.folds,
            "classes": list(self.classes),
        }
        if self.validation is not None:
            figures["cv"] = self.validation.as_dict()
        return figures


@dataclass(frozen=True)
class Validation:
    """How cross-validated predictions were made: stored with the scores, shown beside them."""

    grouped: bool  # False: folds by sentence, so a near-copy may sit in the training fold
    folds: int
    groups: int  # distinct groups among the labels (the sentence count when not grouped)
    n: int  # labels scored
    seed: int
    how: str  # one sentence for the page and the command

    def as_dict(self) -> dict[str, object]:
        return {
            "grouped": self.grouped,
            "folds": self.folds,
            "groups": self.groups,
            "n": self.n,
            "seed": self.seed,
            "how": self.how,
        }


@dataclass(frozen=True)
class CrossValidation:
    """The folds, as indices into the labels given, and how they were made."""

    splits: list[tuple[list[int], list[int]]]  # (training, validation) per fold
    validation: Validation


@dataclass
class SliceScore:
    """A model scored on the evaluation slice: gold labels it was never trained on.

    `metrics` is None when the slice is too small to score; `reason` then says why.
    """

    n: int
    distribution: dict[str, int]
    metrics: Metrics | None
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        figures: dict[str, object] = {
            "n": self.n,
            "distribution": self.distribution,
            "scored": self.metrics is not None,
            "reason": self.reason,
        }
        if self.metrics is not None:
            scored = self.metrics.as_dict()
            scored.pop("folds")
            figures.update(scored)
        return figures


@dataclass
class Prediction:
    label: str
    probabilities: dict[str, float]
    confidence: float  # probability of the predicted label
    margin: float  # best minus second-best probability
    entropy: float  # in bits, over the three classes


@dataclass(frozen=True)
class OutOfFold:
    """A training label's out-of-fold prediction: the label the cross-validation's fold
    model predicted for it, a model fitted without that label's group, and its probability.

    These are the predictions the cross-validated scores are computed from, so they cost no
    fitting of their own; the adjudication page's "suspicious labels" order reads them.
    """

    index: int  # into the texts and labels given to `train`
    label: str
    confidence: float  # the fold model's probability of `label`


@dataclass
class TrainedModel:
    pipeline: Pipeline
    metrics: Metrics
    train_size: int
    distribution: dict[str, int] = field(default_factory=dict)
    #: One a training label (a class left out as too rare has none), in the order given.
    out_of_fold: list[OutOfFold] = field(default_factory=list)


def _texts(inputs: Sequence[Any], aliases: tuple[str, ...] = ()) -> list[str]:
    """The texts of a pipeline's inputs (texts, or (text, vector) pairs), mentions marked."""
    texts = [item if isinstance(item, str) else item[0] for item in inputs]
    return [mark_mentions(text, aliases) for text in texts] if aliases else texts


def _vectors(inputs: Sequence[Any], weight: float = EMBEDDING_WEIGHT) -> Any:
    import numpy as np

    return np.vstack([item[1] for item in inputs]).astype(np.float64) * weight


def build_pipeline(
    folds: int = 3,
    *,
    random_state: int = 0,
    aliases: Sequence[str] = (),
    embedding_weight: float | None = None,
    embedding_components: int | None = None,
) -> Pipeline:
    """TF-IDF of words and characters (mentions of `aliases` marked first), and with an
    `embedding_weight` the sentence embedding beside them (its first `embedding_components`
    principal components, when given), into a calibrated linear SVM."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.decomposition import PCA
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import LinearSVC

    def text(vectoriser: TfidfVectorizer) -> Pipeline:
        select = FunctionTransformer(_texts, kw_args={"aliases": tuple(aliases)})
        return Pipeline([("text", select), ("tfidf", vectoriser)])

    blocks: list[tuple[str, Any]] = [
        (
            "words",
            text(
                TfidfVectorizer(
                    ngram_range=(1, 2), sublinear_tf=True, max_features=200_000, token_pattern=r"(?u)\b\w+\b"
                )
            ),
        ),
        (
            "chars",
            text(
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=300_000
                )
            ),
        ),
    ]
    if embedding_weight is not None:
        vectors = FunctionTransformer(_vectors, kw_args={"weight": embedding_weight})
        if embedding_components is None:
            blocks.append(("embedding", vectors))
        else:
            # Each dense column costs the SVM as much as a non-zero in every row: the
            # leading components keep most of the block at a fraction of its width.
            reduce = PCA(n_components=embedding_components, svd_solver="covariance_eigh")
            blocks.append(("embedding", Pipeline([("vectors", vectors), ("reduce", reduce)])))
    features = FeatureUnion(blocks)
    # cv=3 would split in the order given, unshuffled: the same labels in another order then
    # calibrate differently (up to 4.6 F_avg points apart, issue 17). The SVM's own
    # coordinate descent shuffles too, so it gets the seed as well.
    calibration_folds = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    classifier = CalibratedClassifierCV(
        LinearSVC(class_weight="balanced", random_state=random_state), method="sigmoid", cv=calibration_folds
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def uses_embeddings(pipeline: Pipeline) -> bool:
    """Whether the fitted pipeline has the embedding block (and so wants vectors)."""
    features = pipeline.named_steps.get("features")
    return any(name == "embedding" for name, _ in getattr(features, "transformer_list", []))


def model_inputs(pipeline: Pipeline, texts: Sequence[str], embeddings: np.ndarray | None = None) -> list[Any]:
    """What the pipeline is given: the texts, or (text, vector) pairs for one that embeds."""
    if not uses_embeddings(pipeline):
        return list(texts)
    if embeddings is None or len(embeddings) != len(texts):
        raise TrainingError("This model uses sentence embeddings: give one vector a text.")
    return list(zip(texts, embeddings, strict=True))


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


def _drop_rare(labels: Sequence[str]) -> list[int]:
    """Leave out a class with a single example: it cannot be cross-validated."""
    counts = Counter(labels)
    return [i for i, y in enumerate(labels) if counts[y] >= MIN_PER_CLASS]


def cv_splits(
    labels: Sequence[str],
    groups: Sequence[int] | None = None,
    *,
    random_state: int = 0,
    grouped_by: str = "article",
) -> CrossValidation:
    """Shuffled, seeded folds: stratified by label and, given groups, never splitting one.

    Without groups, or when every label comes from one group (grouping is then impossible),
    the folds are by sentence, and the description says the score may be optimistic.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    folds = _folds(labels)
    distinct = len(set(groups)) if groups is not None else len(labels)
    placeholder = [[0]] * len(labels)  # the splitters read only the labels and groups
    if groups is not None and distinct >= 2:
        folds = min(folds, distinct)
        grouped = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=random_state)
        splits = grouped.split(placeholder, labels, groups)
        how = (
            f"{folds}-fold cross-validation grouped by {grouped_by} ({distinct} groups): no group in both "
            f"a training fold and its validation fold; stratified by label, shuffled, seed {random_state}"
        )
    else:
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state).split(
            placeholder, labels
        )
        why = (
            f"every label is in one group (by {grouped_by}), so grouping was impossible"
            if groups is not None
            else "not grouped"
        )
        how = (
            f"{folds}-fold stratified cross-validation by sentence, shuffled, seed {random_state}: {why}; "
            "a near-copy of a sentence may be in its training fold, so the score may be optimistic"
        )
    return CrossValidation(
        splits=[(train.tolist(), test.tolist()) for train, test in splits],
        validation=Validation(
            grouped=groups is not None and distinct >= 2,
            folds=folds,
            groups=distinct,
            n=len(labels),
            seed=random_state,
            how=how,
        ),
    )


def evaluate(
    true: Sequence[str], predicted: Sequence[str], folds: int, validation: Validation | None = None
) -> Metrics:
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
        validation=validation,
    )


@dataclass(frozen=True)
class Features:
    """Which blocks a model is built with, beside the two TF-IDF blocks."""

    aliases: tuple[str, ...] = ()  # mentions marked before TF-IDF (none: no marking)
    embedding_weight: float | None = None  # None: no embedding block
    embedding_components: int | None = None  # None: the whole vector


def _fit(inputs: Sequence[Any], labels: Sequence[str], random_state: int, features: Features) -> Pipeline:
    pipeline = build_pipeline(
        min(3, min(Counter(labels).values())),
        random_state=random_state,
        aliases=features.aliases,
        embedding_weight=features.embedding_weight,
        # PCA cannot have more components than samples (a small fold's training part).
        embedding_components=(
            None if features.embedding_components is None else min(features.embedding_components, len(inputs))
        ),
    )
    pipeline.fit(list(inputs), list(labels))
    return pipeline


def _predict_fold(
    inputs: Sequence[Any],
    labels: Sequence[str],
    held_out: Sequence[Any],
    random_state: int,
    features: Features,
) -> list[tuple[str, float]]:
    """A fold's predictions, each with its probability, from a model fitted on its training part.

    The label is the most probable one, as `predict` gives it (CalibratedClassifierCV
    predicts the argmax of its probabilities, the first class of `classes_` on a tie), so
    the scores are those of `predict`. A grouped fold can hold nearly all of a class,
    leaving its training part one example or none: such a class is left out of that fold's
    model (calibration needs two), and a part left with a single class predicts its most
    common label with that label's share of the part, which is what a model would learn
    from it.
    """
    counts = Counter(labels)
    kept = [i for i, y in enumerate(labels) if counts[y] >= 2]
    if len({labels[i] for i in kept}) < 2:
        label, n = counts.most_common(1)[0]
        return [(label, n / len(labels))] * len(held_out)
    pipeline = _fit([inputs[i] for i in kept], [labels[i] for i in kept], random_state, features)
    probabilities = pipeline.predict_proba(list(held_out))
    best = probabilities.argmax(axis=1)
    classes = [str(label) for label in pipeline.classes_]
    return [(classes[j], float(row[j])) for row, j in zip(probabilities, best.tolist(), strict=True)]


def canonical_order(texts: Sequence[str], labels: Sequence[str], groups: Sequence[int]) -> list[int]:
    """The labels' indexes in one canonical order, a class with too few examples left out:
    the same labels give the same folds and the same model however they were read."""
    order = sorted(range(len(labels)), key=lambda i: (texts[i], labels[i], groups[i]))
    return [order[i] for i in _drop_rare([labels[i] for i in order])]


def _inputs(
    texts: Sequence[str], embeddings: np.ndarray | None, order: Sequence[int], features: Features
) -> list[Any]:
    """The pipeline's inputs in that order: texts, or (text, vector) with an embedding block."""
    if features.embedding_weight is None:
        return [texts[i] for i in order]
    assert embeddings is not None
    return [(texts[i], embeddings[i]) for i in order]


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    random_state: int = 0,
    embeddings: np.ndarray | None = None,
    features: Features = Features(),
) -> Pipeline:
    """The model `train` ends with, fitted on every label, without the cross-validation
    (benchmarks/active_learning.py retrains with it as often as the product would)."""
    if features.embedding_weight is not None and (embeddings is None or len(embeddings) != len(texts)):
        raise TrainingError("An embedding block needs one vector a text.")
    check_labels(labels)
    order = canonical_order(texts, labels, [0] * len(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _fit(
            _inputs(texts, embeddings, order, features), [labels[i] for i in order], random_state, features
        )


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    groups: Sequence[int] | None = None,
    grouped_by: str = "article",
    random_state: int = 0,
    embeddings: np.ndarray | None = None,
    features: Features = Features(),
) -> TrainedModel:
    """Cross-validated metrics (grouped when groups are given), then the model fitted on every label.

    With `features.embedding_weight`, `embeddings` holds one vector a text (same order).
    The result keeps each training label's out-of-fold prediction (`out_of_fold`), the
    cross-validation's own, so they cost no second round of fitting.
    """
    if len(texts) != len(labels) or (groups is not None and len(groups) != len(labels)):
        raise TrainingError("texts, labels and groups differ in length")
    if features.embedding_weight is not None and (embeddings is None or len(embeddings) != len(texts)):
        raise TrainingError("An embedding block needs one vector a text.")
    counts = check_labels(labels)
    # One canonical order, so that folds, which follow the order of the samples even when
    # shuffled, are the same for the same labels however they were read.
    given = list(groups) if groups is not None else [0] * len(labels)
    order = canonical_order(texts, labels, given)
    inputs = _inputs(texts, embeddings, order, features)
    labels, given = [labels[i] for i in order], [given[i] for i in order]
    cross_validation = cv_splits(
        labels, given if groups is not None else None, random_state=random_state, grouped_by=grouped_by
    )
    predicted = [""] * len(labels)
    confidences = [0.0] * len(labels)
    # Calibration splits each training part again; with few labels a class may be missing
    # from a split, which scikit-learn tolerates with a warning we do not need to show.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for training, validation in cross_validation.splits:
            fold_predictions = _predict_fold(
                [inputs[i] for i in training],
                [labels[i] for i in training],
                [inputs[i] for i in validation],
                random_state,
                features,
            )
            for i, (label, confidence) in zip(validation, fold_predictions, strict=True):
                predicted[i], confidences[i] = label, confidence
        pipeline = _fit(inputs, labels, random_state, features)
    metrics = evaluate(labels, predicted, cross_validation.validation.folds, cross_validation.validation)
    # Every label is in exactly one validation fold, so each has its prediction; `order`
    # maps the canonical position back to the one given.
    out_of_fold = sorted(
        (
            OutOfFold(index=order[i], label=predicted[i], confidence=confidences[i])
            for i in range(len(labels))
        ),
        key=lambda p: p.index,
    )
    return TrainedModel(
        pipeline=pipeline,
        metrics=metrics,
        train_size=len(inputs),
        distribution=dict(counts),
        out_of_fold=out_of_fold,
    )


def score_slice(
    pipeline: Pipeline, texts: Sequence[str], labels: Sequence[str], *, embeddings: np.ndarray | None = None
) -> SliceScore:
    """The fitted model's scores on held-out gold labels, or why there are too few to score."""
    distribution = {label: n for label, n in sorted(Counter(labels).items())}
    if len(labels) < MIN_SLICE:
        return SliceScore(
            len(labels),
            distribution,
            None,
            f"too small to score: {len(labels)} gold labels, at least {MIN_SLICE} are needed",
        )
    missing = [str(label) for label in pipeline.classes_ if label not in distribution]
    if missing:
        return SliceScore(
            len(labels),
            distribution,
            None,
            f"too small to score: no {' or '.join(missing)} sentence among its {len(labels)} gold labels",
        )
    predicted = [str(label) for label in pipeline.predict(model_inputs(pipeline, texts, embeddings))]
    return SliceScore(len(labels), distribution, evaluate(labels, predicted, folds=0))


def _entropy(row: np.ndarray) -> float:
    import numpy as np

    nonzero = row[row > 0]
    return float(-(nonzero * np.log2(nonzero)).sum())


def predict(
    pipeline: Pipeline, texts: Sequence[str], *, embeddings: np.ndarray | None = None
) -> list[Prediction]:
    """Probabilities for pro, contra and neutral (0 for a class the model never saw)."""
    import numpy as np

    if not texts:
        return []
    probabilities = pipeline.predict_proba(model_inputs(pipeline, texts, embeddings))
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
