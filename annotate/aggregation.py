"""Gold labels under the target's rule (Target.gold_method), and Dawid-Skene's Django side.

- `majority` (the default): annotate.gold's rule, adjudication > strict majority > single.
- `dawid_skene`: annotate.dawid_skene fitted on the target's stance labels (skips are not
  labels), every adjudicated sentence clamped to its gold. A sentence's gold label is its
  adjudication (method `adjudicated`) or its most probable label (`dawid_skene`), with the
  posterior of each label; one whose two most probable labels tie stays unresolved, as a
  tie of votes does under majority. A sentence that was only skipped is in neither rule.

The labels are read with one query, one row a label as three integers (the label coded in
SQL), streamed into numpy arrays without a model instance or a list of rows; the
adjudications with a second. numpy is imported inside the functions that fit: the export
view imports this module, and web processes must not load numpy for the label loop
(tests/test_lazy_imports.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from annotate.gold import Gold, Method, gold_labels
from annotate.models import STANCE_LABELS, Adjudication, Annotation, GoldMethod, SentenceTally, Target

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from annotate.dawid_skene import Fit

#: Each stance label's class number in the model.
CLASS = {label: number for number, label in enumerate(STANCE_LABELS)}
#: Posteriors are given to this many decimals (the fit stops when none moves by 1e-6).
POSTERIOR_DECIMALS = 6
#: Sentences converted from numpy to Python at a time, so memory stays flat.
CHUNK = 5000

#: How each rule decides, for the dataset card.
RULES = {
    GoldMethod.MAJORITY: (
        "A curator's adjudication wins (method `adjudicated`). Otherwise the strict majority of the "
        "sentence's non-skipped labels decides (`majority`); a single label counts until more arrive "
        "(`single`); a tie stays unresolved and is not exported at the gold level."
    ),
    GoldMethod.DAWID_SKENE: (
        "A Dawid-Skene model (Dawid and Skene 1979) estimates each annotator's confusion matrix (how "
        "often they give each label to a sentence of each true stance) and each sentence's posterior "
        "over pro, contra and neutral, by EM over every non-skipped label, started from majority vote. "
        "Adjudicated sentences are held at their curator's label (method `adjudicated`) and so teach "
        "the annotators' matrices; every other sentence takes its most probable label (`dawid_skene`), "
        "and the `posterior` field gives the probability of each. A sentence whose two most probable "
        "labels tie stays unresolved and is not exported at the gold level."
    ),
}


@dataclass(frozen=True)
class LabelArrays:
    """A target's stance labels, one entry a label: what annotate.dawid_skene fits on."""

    sentences: NDArray[np.int64]
    annotators: NDArray[np.int64]
    classes: NDArray[np.int64]  # CLASS numbers


@dataclass(frozen=True)
class AnnotatorMatrix:
    """An annotator's estimated confusion matrix: confusion[true][given] is the chance they
    give `given` to a sentence whose stance is `true`."""

    annotator_id: int
    accuracy: float  # the diagonal weighted by the estimated share of each stance
    confusion: dict[str, dict[str, float]]
    labels: int  # the annotator's stance labels the matrix was fitted on


def _integers(rows: QuerySet[Any, Any], width: int) -> NDArray[np.int64]:
    """A query's integer rows as a (rows, width) array, streamed: no list of tuples."""
    import numpy as np

    flat = np.fromiter(chain.from_iterable(rows.iterator(chunk_size=20_000)), dtype=np.int64)
    return flat.reshape(-1, width)


def label_arrays(*, target: Target) -> LabelArrays:
    """The target's stance labels in one query (skips are not labels)."""
    code = Case(
        *(When(label=label, then=Value(number)) for label, number in CLASS.items()),
        output_field=IntegerField(),
    )
    rows = (
        Annotation.objects.filter(target=target, label__in=STANCE_LABELS)
        .order_by()
        .values_list("sentence_id", "annotator_id", code)
    )
    table = _integers(rows, 3)
    return LabelArrays(sentences=table[:, 0], annotators=table[:, 1], classes=table[:, 2])


@dataclass(frozen=True)
class DawidSkeneGold:
    """A Dawid-Skene model fitted on a target's labels, and the gold labels it gives."""

    fit: Fit
    adjudicated: frozenset[int]  # sentences clamped by an adjudication (the others: `clamped`)
    # Each annotator's stance labels, in the order of fit.annotator_ids: what their matrix rests on.
    annotator_labels: tuple[int, ...] = ()

    def golds(self) -> Iterator[Gold]:
        """Every labelled or clamped sentence's gold decision, in sentence order."""
        fit = self.fit
        classes = fit.classes
        for start in range(0, len(fit.item_ids), CHUNK):
            part = slice(start, start + CHUNK)
            rows = zip(
                fit.item_ids[part].tolist(),
                classes[part].tolist(),
                fit.clamped[part].tolist(),
                fit.counts[part].tolist(),
                fit.posterior[part].round(POSTERIOR_DECIMALS).tolist(),
                strict=True,
            )
            for sentence_id, number, clamped, counts, posterior in rows:
                if number < 0:
                    label, method = None, Method.UNRESOLVED
                else:
                    label = STANCE_LABELS[number]
                    method = (
                        (Method.ADJUDICATED if sentence_id in self.adjudicated else Method.CLAMPED)
                        if clamped
                        else Method.DAWID_SKENE
                    )
                yield Gold(
                    sentence_id=sentence_id,
                    label=label,
                    method=method,
                    votes=sum(counts),
                    counts={name: n for name, n in zip(STANCE_LABELS, counts, strict=True) if n},
                    posterior=dict(zip(STANCE_LABELS, posterior, strict=True)),
                )

    def annotators(self) -> list[AnnotatorMatrix]:
        """Every annotator's estimated confusion matrix, by annotator id."""
        fit = self.fit
        counts = self.annotator_labels or (0,) * len(fit.annotator_ids)
        return [
            AnnotatorMatrix(
                annotator_id=annotator_id,
                accuracy=accuracy,
                confusion={
                    true: dict(zip(STANCE_LABELS, row, strict=True))
                    for true, row in zip(STANCE_LABELS, matrix, strict=True)
                },
                labels=labels,
            )
            for annotator_id, accuracy, matrix, labels in zip(
                fit.annotator_ids.tolist(), fit.accuracy.tolist(), fit.confusion.tolist(), counts, strict=True
            )
        ]


def dawid_skene_gold(*, target: Target, clamped: Mapping[int, str] | None = None) -> DawidSkeneGold:
    """Fit Dawid-Skene on the target's labels, adjudicated sentences clamped to their gold.

    `clamped` gives more sentences whose gold is known (sentence id: stance label), such as
    evaluation items: they are held like adjudications, and an adjudication wins where a
    sentence is in both."""
    from annotate.dawid_skene import fit

    decided = dict(Adjudication.objects.filter(target=target).values_list("sentence_id", "label"))
    known = {**(clamped or {}), **decided}
    unknown = sorted({label for label in known.values() if label not in CLASS})
    if unknown:
        raise ValueError(f"A clamped label must be one of {', '.join(STANCE_LABELS)}, not {unknown[0]!r}.")
    labels = label_arrays(target=target)
    model = fit(
        items=labels.sentences,
        annotators=labels.annotators,
        labels=labels.classes,
        n_classes=len(STANCE_LABELS),
        clamped={sentence_id: CLASS[label] for sentence_id, label in known.items()},
    )
    import numpy as np

    # fit.annotator_ids is np.unique of the label's annotators: the counts follow its order.
    _, per_annotator = np.unique(labels.annotators, return_counts=True)
    return DawidSkeneGold(
        fit=model, adjudicated=frozenset(decided), annotator_labels=tuple(per_annotator.tolist())
    )


def target_gold(*, target: Target) -> Iterator[Gold]:
    """The target's gold decisions under its rule, in sentence order (annotate.gold's puts
    adjudicated sentences without labels last)."""
    if target.gold_method == GoldMethod.DAWID_SKENE:
        return dawid_skene_gold(target=target).golds()
    return gold_labels(target=target)


def article_gold_counts(
    *, target: Target, article_ids: Sequence[int], fit: Fit | None = None
) -> list[list[int]]:
    """Under Dawid-Skene, each article's gold labels by stance (STANCE_LABELS order), for
    the articles `article_ids` (sorted, as annotate.summary.article_counts gives them);
    `fit` is the target's fit when the caller has one already."""
    import numpy as np

    fit = fit if fit is not None else dawid_skene_gold(target=target).fit
    pairs = (
        SentenceTally.objects.filter(target=target)
        .filter(Q(votes__gt=0) | ~Q(adjudicated=""))
        .order_by()
        .values_list("sentence_id", "sentence__article_id")
    )
    table = _integers(pairs, 2)
    ids = np.asarray(article_ids, dtype=np.int64)
    k = len(STANCE_LABELS)
    if not ids.size or not fit.item_ids.size:
        return [[0] * k for _ in article_ids]
    at = np.minimum(np.searchsorted(fit.item_ids, table[:, 0]), fit.item_ids.size - 1)
    article = np.minimum(np.searchsorted(ids, table[:, 1]), ids.size - 1)
    classes = fit.classes[at]
    # A sentence labelled or an article added between the two reads has no place: left out.
    keep = (fit.item_ids[at] == table[:, 0]) & (ids[article] == table[:, 1]) & (classes >= 0)
    counts = np.bincount(article[keep] * k + classes[keep], minlength=ids.size * k)
    return counts.reshape(ids.size, k).tolist()
