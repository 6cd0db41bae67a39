"""Training: from gold labels to a model version and a suggestion for every sentence.

A retrain never disturbs the active model: the new version and its suggestions are
written beside it, and only when every sentence has its suggestion does the target switch
to the new version, in one UPDATE, and only if it scores at least as well as the active
one (annotate/activation.py; a version that loses is kept ready, without suggestions). A
run that fails or is killed leaves a version in "training" that the next run marks failed
and clears.

Two scores are stored with each version, each saying how it was computed: grouped
cross-validation on the training labels, and the score on the evaluation slice, the
target's control set (a fixed hash bucket of the sentence id, so a random share of the
corpus whatever its content or place). Annotators label the slice without a suggestion on
screen, and its gold labels are never trained on, nor are those of the slice sentences'
duplicates (the same or a near-identical text, Sentence.duplicate_group). Cross-validation
groups by article and by duplicate group (annotate.splits.cv_groups). The groups are those
the last scan stored: the retrain command and task bring them up to date first, as the
export does before it splits.

Each training label's out-of-fold prediction (the label the cross-validation's fold model
that did not see it predicted, and its probability) is stored with the version
(CrossValidatedPrediction, cross_validated_write), for every version, winner or not: the
adjudication page's "suspicious labels" order reads the active version's, so no label is
called suspicious by a model that was trained on it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from annotate import classifier, predict_pool
from annotate.classifier import TrainingError
from annotate.embedding_store import embeddings_read, vectors_for
from annotate.embedding_store import enabled as embeddings_enabled
from annotate.embeddings import MODEL_NAME as embedding_model_name
from annotate.gold import gold_labels
from annotate.models import (
    Annotation,
    CrossValidatedPrediction,
    ModelVersion,
    Sentence,
    Suggestion,
    Target,
)
from annotate.splits import cv_groups
from annotate.suggestions import in_control_set
from annotate.targets import clean_aliases

if TYPE_CHECKING:
    import numpy as np

    from annotate.activation import Comparison

DEFAULT_MIN_LABELS = 20
BATCH_SIZE = 5000

Progress = Callable[..., Iterable[Any]]


def _no_progress(iterable: Iterable[Any], **kwargs: object) -> Iterable[Any]:
    return iterable


@dataclass
class RetrainResult:
    version: ModelVersion | None
    metrics: classifier.Metrics
    train_size: int
    distribution: dict[str, int]
    sentences_predicted: int
    seconds: float
    dry_run: bool
    suggest_seconds: float = 0.0  # predicting and writing suggestions, within seconds
    evaluation: classifier.SliceScore | None = None  # the evaluation slice's score
    comparison: Comparison | None = None  # against the active version, and the decision


def model_dir() -> Path:
    path = Path(settings.MODEL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# joblib (scikit-learn's pickler, with loky and cloudpickle) is imported where a model is
# written, so that importing this module loads nothing heavy.


def model_save(version: ModelVersion, pipeline: object) -> None:
    import joblib

    path = model_dir() / f"target{version.target_id}-v{version.pk}.joblib"
    joblib.dump(pipeline, path)
    version.file_name = path.name
    version.file_sha256 = _sha256(path)


class ModelFileError(TrainingError):
    """A version's model file is missing or not the one written (its hash differs)."""


def model_load(version: ModelVersion) -> Any:
    """The fitted pipeline a version saved, loaded only if its hash is the one recorded:
    unpickling runs code, so no file this app did not write is ever loaded."""
    import joblib

    path = model_dir() / version.file_name if version.file_name else None
    if path is None or not path.is_file():
        raise ModelFileError(f"v{version.pk}'s model file is missing.")
    if not version.file_sha256 or _sha256(path) != version.file_sha256:
        raise ModelFileError(f"v{version.pk}'s model file is not the one it wrote (its hash differs).")
    return joblib.load(path)


class UpToDate(TrainingError):
    """The active model was trained on exactly the gold labels there are now."""


def resolved_golds(*, target: Target) -> dict[int, str]:
    """Sentence id to gold label, for every resolved sentence of the target."""
    return {g.sentence_id: g.label for g in gold_labels(target=target) if g.label is not None}  # resolved


def gold_fingerprint(golds: dict[int, str]) -> str:
    """A digest of the gold labels (sentence and label), the same in any order."""
    digest = hashlib.sha256()
    for sentence_id in sorted(golds):
        digest.update(f"{sentence_id}:{golds[sentence_id]}\n".encode())
    return digest.hexdigest()


#: How the cross-validation groups are made (TrainingSet.groups), said with the score.
GROUPED_BY = "article and duplicate group"


@dataclass
class TrainingSet:
    """A target's resolved gold labels, split into what trains and the evaluation slice."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    sentence_ids: list[int] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)
    #: Each training sentence's Sentence.duplicate_group (None: no copies known).
    duplicate_groups: list[int | None] = field(default_factory=list)
    slice_texts: list[str] = field(default_factory=list)
    slice_labels: list[str] = field(default_factory=list)
    slice_ids: list[int] = field(default_factory=list)
    #: Slice sentences with a label given while a suggestion was on screen (the control
    #: share was raised after they were labelled): kept out of training and out of the score.
    slice_left_out: int = 0
    #: Sentences outside the slice kept out of training because they are in the duplicate
    #: group of a scored slice sentence: a near-copy trained on would inflate the slice score.
    slice_copies: int = 0

    def groups(self) -> list[int]:
        """Cross-validation groups: connected components of "same article" and "same
        duplicate group" (annotate.splits.cv_groups, the splits' union-find)."""
        return cv_groups(article_ids=self.article_ids, duplicate_groups=self.duplicate_groups)


def _slice_rows(
    target: Target, chunk: list[int]
) -> tuple[list[tuple[int, str, int, int | None]], set[int], set[int]]:
    """A chunk of gold sentences read: (id, text, article, duplicate group) rows, those in
    the evaluation slice, and of those the ones labelled with a suggestion on screen."""
    rows = list(
        Sentence.objects.filter(id__in=chunk)
        .order_by("id")
        .values_list("id", "text", "article_id", "duplicate_group")
    )
    in_slice = {
        sentence_id for sentence_id in chunk if in_control_set(target=target, sentence_id=sentence_id)
    }
    prompted = (
        set(
            Annotation.objects.filter(target=target, sentence_id__in=in_slice, suggestion_shown=True)
            .values_list("sentence_id", flat=True)
            .distinct()
        )
        if in_slice
        else set()
    )
    return rows, in_slice, prompted


def training_set(*, target: Target, golds: dict[int, str] | None = None) -> TrainingSet:
    """Every resolved sentence of the target: training labels, and the evaluation slice apart.

    A sentence outside the slice whose duplicate group holds a scored slice sentence (the
    same or a near-identical text) is not trained on either: the groups of the slice are
    known only once every chunk is read, so the rows are kept and sorted at the end.
    """
    if golds is None:
        golds = resolved_golds(target=target)
    data = TrainingSet()
    ids = sorted(golds)
    candidates: list[tuple[int, str, int, int | None]] = []
    slice_groups: set[int] = set()
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        rows, in_slice, prompted = _slice_rows(target, chunk)
        for sentence_id, text, article_id, group in rows:
            if sentence_id not in in_slice:
                candidates.append((sentence_id, text, article_id, group))
            elif sentence_id in prompted:
                data.slice_left_out += 1
            else:
                data.slice_texts.append(text)
                data.slice_ids.append(sentence_id)
                data.slice_labels.append(golds[sentence_id])
                # A sentence without a stored group is its own group (Sentence.duplicate_group).
                slice_groups.add(sentence_id if group is None else group)
    for sentence_id, text, article_id, group in candidates:
        if (sentence_id if group is None else group) in slice_groups:
            data.slice_copies += 1
            continue
        data.texts.append(text)
        data.labels.append(golds[sentence_id])
        data.sentence_ids.append(sentence_id)
        data.article_ids.append(article_id)
        data.duplicate_groups.append(group)
    return data


def training_data(*, target: Target, golds: dict[int, str] | None = None) -> tuple[list[str], list[str]]:
    """Texts and gold labels the target's model trains on: the evaluation slice left out."""
    data = training_set(target=target, golds=golds)
    return data.texts, data.labels


def model_features(*, target: Target) -> classifier.Features:
    """The blocks a retrain builds beside TF-IDF: the target's name and aliases marked in
    the text, and the sentence embedding (its leading principal components) when
    SENTENCE_EMBEDDINGS is on."""
    return classifier.Features(
        aliases=tuple(clean_aliases([target.name, *target.aliases])),
        embedding_weight=classifier.EMBEDDING_WEIGHT if embeddings_enabled() else None,
        embedding_components=classifier.EMBEDDING_COMPONENTS if embeddings_enabled() else None,
    )


def _sentence_batches(batch_size: int) -> Iterator[list[tuple[int, str]]]:
    """All sentences in id order, a batch at a time, by keyset pagination."""
    last = 0
    while True:
        batch = list(
            Sentence.objects.filter(id__gt=last).order_by("id").values_list("id", "text")[:batch_size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def _clear_abandoned(target: Target) -> None:
    """Versions left in training by a killed or failed run: mark failed, drop their
    suggestions and out-of-fold predictions."""
    stale = ModelVersion.objects.filter(target=target, status=ModelVersion.Status.TRAINING)
    Suggestion.objects.filter(model_version__in=stale).delete()
    CrossValidatedPrediction.objects.filter(model_version__in=stale).delete()
    stale.update(status=ModelVersion.Status.FAILED, error="Interrupted before it was activated.")


def _sentence_chunks(
    pipeline: Any, batch_size: int
) -> Iterator[tuple[list[tuple[int, str]], list[str], np.ndarray | None]]:
    """Every sentence a batch at a time, with its text and, for a pipeline that embeds, its
    stored vector: what predict_pool.predictions reads, one chunk when it needs one."""
    for batch in _sentence_batches(batch_size):
        vectors = vectors_for(pipeline=pipeline, sentence_ids=[sentence_id for sentence_id, _ in batch])
        yield batch, [text for _, text in batch], vectors


def suggestions_write(
    *,
    version: ModelVersion,
    pipeline: Any,
    batch_size: int = BATCH_SIZE,
    progress: Progress = _no_progress,
    workers: int | None = None,
) -> int:
    """A suggestion of the version for every sentence, a batch at a time; how many.

    The batches are predicted on `workers` processes (settings.MODEL_WORKERS by default;
    annotate.predict_pool), never more than there are batches, and written here, in id
    order, one bulk insert a batch as they come back: a run that fails or is killed leaves
    the batches before it written, for the next run to clear (_clear_abandoned).
    """
    total = Sentence.objects.count()
    batches = -(-total // batch_size)
    workers = settings.MODEL_WORKERS if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}.")
    # A pool costs a second or two to start (each worker imports scikit-learn and loads the
    # model): one batch, or one worker, is predicted here.
    workers = max(1, min(workers, batches))
    predicted = 0
    chunks = _sentence_chunks(pipeline, batch_size)
    # Closed on the way out, an error here included: the workers end with this call.
    with closing(predict_pool.predictions(pipeline, chunks, workers=workers)) as written:
        for batch, predictions in progress(written, total=batches, desc="Suggesting"):
            Suggestion.objects.bulk_create(
                [
                    Suggestion(
                        model_version=version,
                        sentence_id=sentence_id,
                        target_id=version.target_id,
                        label=p.label,
                        confidence=p.confidence,
                        margin=p.margin,
                        entropy=p.entropy,
                        probabilities=p.probabilities,
                    )
                    for (sentence_id, _), p in zip(batch, predictions, strict=True)
                ],
                batch_size=1000,
            )
            predicted += len(batch)
    return predicted


def cross_validated_write(
    *,
    version: ModelVersion,
    sentence_ids: list[int],
    out_of_fold: list[classifier.OutOfFold],
    batch_size: int = BATCH_SIZE,
) -> int:
    """The version's out-of-fold predictions, one a training label (`sentence_ids[i]` is
    the sentence of the label at index i given to classifier.train), a chunk at a time; how
    many.

    Written as the suggestions are, chunk by chunk and not in one transaction (on SQLite
    that would hold the write lock the annotators' labels wait for): nothing reads them
    before the version is active, which it becomes only after they are all written, and a
    run killed half way leaves its version in training, cleared with them by the next run.
    """
    written = 0
    for start in range(0, len(out_of_fold), batch_size):
        chunk = out_of_fold[start : start + batch_size]
        CrossValidatedPrediction.objects.bulk_create(
            [
                CrossValidatedPrediction(
                    model_version=version,
                    sentence_id=sentence_ids[p.index],
                    label=p.label,
                    confidence=p.confidence,
                )
                for p in chunk
            ],
            batch_size=1000,
        )
        written += len(chunk)
    return written


def retrain(
    *,
    target: Target,
    min_labels: int = DEFAULT_MIN_LABELS,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress = _no_progress,
    only_if_changed: bool = False,
    workers: int | None = None,
) -> RetrainResult:
    """Train on the target's gold labels; if the new version scores at least as well as
    the active one (annotate.activation), suggest for every sentence, then switch.

    The suggestions are predicted on `workers` processes (settings.MODEL_WORKERS by
    default, suggestions_write). With `only_if_changed`, raises UpToDate instead when the active version was trained on
    the very gold labels there are now (what a second `make run` relies on).
    """
    # Imported here: both import this module. Activation by evidence and the background
    # policy's counter are theirs; retrain only calls them.
    from annotate import activation, retrain_policy

    started = time.monotonic()
    gold_mark = retrain_policy.gold_changes(target_id=target.pk)  # read first: no new label is missed
    golds = resolved_golds(target=target)
    fingerprint = gold_fingerprint(golds)
    if only_if_changed and target.active_version_id is not None:
        active = ModelVersion.objects.filter(pk=target.active_version_id).first()
        if active is not None and active.gold_fingerprint == fingerprint:
            raise UpToDate(
                f"Model version {active.pk} is up to date: no gold label of {target.name} "
                f"has changed since it was trained on {active.train_size}."
            )
    data = training_set(target=target, golds=golds)
    if len(data.labels) < min_labels:
        held = len(data.slice_labels) + data.slice_left_out
        raise TrainingError(
            f"Only {len(data.labels)} gold labels for {target.name}; at least {min_labels} are needed. "
            "Label more sentences (or lower --min-labels)."
            + (f" {held} more are in the evaluation slice, which is never trained on." if held else "")
            + (
                f" {data.slice_copies} more are copies of slice sentences, kept out for the same reason."
                if data.slice_copies
                else ""
            )
        )
    classifier.check_labels(data.labels)
    features = model_features(target=target)
    trained = classifier.train(
        data.texts,
        data.labels,
        groups=data.groups(),
        grouped_by=GROUPED_BY,
        embeddings=embeddings_read(sentence_ids=data.sentence_ids) if features.embedding_weight else None,
        features=features,
    )
    evaluation = classifier.score_slice(
        trained.pipeline,
        data.slice_texts,
        data.slice_labels,
        embeddings=vectors_for(pipeline=trained.pipeline, sentence_ids=data.slice_ids),
    )
    if dry_run:
        return RetrainResult(
            None,
            trained.metrics,
            trained.train_size,
            trained.distribution,
            0,
            time.monotonic() - started,
            True,
            evaluation=evaluation,
        )
    _clear_abandoned(target)
    version = ModelVersion.objects.create(
        target=target,
        train_size=trained.train_size,
        label_distribution=trained.distribution,
        metrics={
            **trained.metrics.as_dict(),
            # Which blocks the model has beside word and character TF-IDF.
            "features": {
                "mentions_marked": list(features.aliases),
                "embedding": embedding_model_name if features.embedding_weight else None,
                "embedding_weight": features.embedding_weight,
                "embedding_components": features.embedding_components,
            },
            "evaluation_slice": {
                **evaluation.as_dict(),
                "share": target.control_share,
                "left_out": data.slice_left_out,
                "copies_left_out": data.slice_copies,
            },
        },
        gold_fingerprint=fingerprint,
    )
    model_save(version, trained.pipeline)
    version.save(update_fields=["file_name", "file_sha256"])
    # Written for every version, winner or not: they cannot be made again without refitting
    # the folds, and an admin may activate a version that lost (annotate.activation).
    cross_validated_write(version=version, sentence_ids=data.sentence_ids, out_of_fold=trained.out_of_fold)
    comparison = activation.version_compare(
        target=target,
        metrics=trained.metrics,
        train_size=trained.train_size,
        evaluation=evaluation,
        slice_texts=data.slice_texts,
        slice_ids=data.slice_ids,
        slice_labels=data.slice_labels,
    )
    predicted, suggest_started = 0, time.monotonic()
    if comparison.activate:  # a version that loses is kept, and its suggestions never written
        predicted = suggestions_write(
            version=version,
            pipeline=trained.pipeline,
            batch_size=batch_size,
            progress=progress,
            workers=workers,
        )
    suggest_seconds = time.monotonic() - suggest_started
    comparison = activation.retrain_finish(
        version=version, comparison=comparison, predicted=predicted, started=started
    )
    if comparison.activate:
        target.active_version = version
    retrain_policy.mark_trained(target_id=target.pk, gold_mark=gold_mark)
    return RetrainResult(
        version=version,
        metrics=trained.metrics,
        train_size=trained.train_size,
        distribution=trained.distribution,
        sentences_predicted=predicted,
        seconds=time.monotonic() - started,
        dry_run=False,
        suggest_seconds=suggest_seconds,
        evaluation=evaluation,
        comparison=comparison,
    )
